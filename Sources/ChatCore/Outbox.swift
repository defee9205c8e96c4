/// The fan-out buffer: everything rendered during one reactor iteration, and for each client the
/// ranges of it that client must receive.
///
/// A message is rendered once into `arena`; delivering it to a recipient appends an (offset,
/// length) entry to that recipient's list, or extends the recipient's last entry when the new
/// message directly follows it, so a recipient that gets every message of a burst owns one range
/// however many messages the burst held. No bytes are copied and nothing is allocated per
/// recipient. At the end of the iteration the I/O layer writes each dirty client's ranges with
/// one `writev`, copies any unwritten rest into that client's private backlog, and calls
/// `reset()`: after that no range points into the arena, so it is reused from offset zero.
public struct Outbox: Sendable {
    /// Where one published message lives in `arena`.
    public struct MessageHandle: Sendable, Equatable {
        public let offset: UInt32
        public let length: UInt32
    }

    /// One contiguous range of `arena` queued for a client, chained per client by `next`.
    public struct QueuedRange: Sendable {
        public var offset: UInt32
        public var length: UInt32
        fileprivate var next: Int32
    }

    private struct Link: Sendable {
        var head: Int32 = -1
        var tail: Int32 = -1
        var bytes: Int = 0
    }

    /// Bytes rendered this iteration. Offsets into it stay valid until `reset()`.
    public private(set) var arena: [UInt8] = []
    private var ranges: ContiguousArray<QueuedRange> = []
    private var links: ContiguousArray<Link> = []
    /// Clients with ranges queued this iteration, each listed once, in first-delivery order.
    public private(set) var dirty: [ClientID] = []
    /// Clients to close once their output is flushed (`/quit`), in request order.
    public private(set) var closeRequests: [ClientID] = []

    /// Arena capacity kept across iterations; a burst that grew it further is given back.
    public static let retainedArenaBytes = 1 << 20

    public init() {}

    /// Renders one message straight into the arena and returns where it landed.
    public mutating func publish(_ render: (inout [UInt8]) -> Void) -> MessageHandle {
        let start = arena.count
        render(&arena)
        return MessageHandle(offset: UInt32(start), length: UInt32(arena.count - start))
    }

    /// Queues `message` for `client`, merging with the client's previous range when contiguous.
    public mutating func deliver(_ message: MessageHandle, to client: ClientID) {
        if message.length == 0 { return }
        let slot = Int(client.index)
        if slot >= links.count { links.append(contentsOf: repeatElement(Link(), count: slot + 1 - links.count)) }
        let tail = links[slot].tail
        links[slot].bytes += Int(message.length)
        if tail >= 0 {
            let last = ranges[Int(tail)]
            if last.offset &+ last.length == message.offset {
                ranges[Int(tail)].length = last.length &+ message.length
                return
            }
            ranges[Int(tail)].next = Int32(ranges.count)
        } else {
            links[slot].head = Int32(ranges.count)
            dirty.append(client)
        }
        links[slot].tail = Int32(ranges.count)
        ranges.append(QueuedRange(offset: message.offset, length: message.length, next: -1))
    }

    /// Queues `message` for every member but `sender`: the fan-out inner loop, kept in one
    /// mutating call so the whole loop is a single access to the outbox.
    public mutating func deliver(_ message: MessageHandle, toAll members: ContiguousArray<ClientID>, except sender: ClientID?) {
        for member in members where member != sender {
            deliver(message, to: member)
        }
    }

    /// Bytes queued for `client` this iteration (its private backlog is counted by the I/O layer).
    public func pendingBytes(for client: ClientID) -> Int {
        let slot = Int(client.index)
        return slot < links.count ? links[slot].bytes : 0
    }

    /// Calls `body` with each range queued for `client`, in delivery order.
    public func forEachRange(of client: ClientID, _ body: (_ offset: Int, _ length: Int) -> Void) {
        var index = firstRange(of: client)
        while index >= 0 {
            let range = rangeAt(index)
            body(Int(range.offset), Int(range.length))
            index = nextRange(after: index)
        }
    }

    private func firstRange(of client: ClientID) -> Int {
        let slot = Int(client.index)
        return slot < links.count ? Int(links[slot].head) : -1
    }

    private func rangeAt(_ index: Int) -> QueuedRange { ranges[index] }

    private func nextRange(after index: Int) -> Int { Int(ranges[index].next) }

    /// Asks the I/O layer to close `client` once everything queued for it has been written.
    public mutating func requestClose(_ client: ClientID) {
        closeRequests.append(client)
    }

    /// Forgets what was queued for a client that is going away mid-iteration.
    public mutating func discard(_ client: ClientID) {
        let slot = Int(client.index)
        guard slot < links.count else { return }
        links[slot] = Link()
    }

    /// Empties the outbox after the I/O layer has written or copied every queued range.
    public mutating func reset() {
        for client in dirty {
            links[Int(client.index)] = Link()
        }
        dirty.removeAll(keepingCapacity: true)
        closeRequests.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: ranges.capacity <= 1 << 16)
        arena.removeAll(keepingCapacity: arena.capacity <= Self.retainedArenaBytes)
    }

    /// Everything queued for `client`, concatenated: for tests and for copying into a backlog.
    public func bytes(for client: ClientID) -> [UInt8] {
        var out: [UInt8] = []
        forEachRange(of: client) { offset, length in
            out.append(contentsOf: arena[offset..<(offset + length)])
        }
        return out
    }
}
