/// Several cluster messages for one channel in one PUBLISH payload: what a node's loop
/// iteration publishes on a channel is sent as one message, not one per line, so Redis,
/// hiredis and every subscribed node handle a command, a push and a wake-up per iteration
/// and channel instead of per line (the render-once fan-out's coalescing, carried across
/// Redis).
///
/// Records are separated by a line feed: `ClusterMessage.decode` refuses every control byte
/// but TAB, so a record can never hold one, and a batch of one record is exactly the
/// record's own payload. (A node of the first cluster version drops a batch of several as
/// malformed: upgrade every node together.) Only consecutive publishes on the same channel
/// are joined, so the order between channels is what it was. A batch holds only this node's
/// own messages (what scripts publish in Redis goes alone), which is what lets a node skip
/// its own batches coming back by the first record's node.
public struct ClusterBatch {
    public static let separator: UInt8 = 0x0A
    /// A payload is closed at this size and the next record starts a new one.
    public static let maxBytes = 64 * 1024

    public private(set) var channel: String?
    public private(set) var bytes: [UInt8] = []
    public private(set) var records = 0

    public init() {}

    /// Whether `payload` for `channel` can join what is held (else flush first).
    public func accepts(_ payload: [UInt8], on channel: String) -> Bool {
        records == 0 || (self.channel == channel && bytes.count + 1 + payload.count <= Self.maxBytes)
    }

    public mutating func append(_ payload: [UInt8], on channel: String) {
        if records > 0 { bytes.append(Self.separator) } else { self.channel = channel }
        bytes.append(contentsOf: payload)
        records += 1
    }

    /// Empties it, keeping the buffer's capacity for the next iteration.
    public mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
        records = 0
        channel = nil
    }

    /// Calls `body` with every record of a received payload, in order (empty records skipped).
    public static func forEachRecord(in payload: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>) -> Void) {
        var start = payload.startIndex
        while start < payload.endIndex {
            let end = payload[start...].firstIndex(of: separator) ?? payload.endIndex
            if end > start { body(payload[start..<end]) }
            start = end + 1
        }
    }
}
