/// A FIFO of bytes consumed from the front by offset and compacted lazily: a client's unsent
/// output backlog and its held (unread-by-the-hub) input both use it, so "how many bytes does
/// this client pin" has one answer.
struct ByteQueue {
    private var storage: [UInt8] = []
    private var start = 0

    /// Bytes not yet consumed.
    var count: Int { storage.count - start }
    var isEmpty: Bool { storage.count == start }

    /// Compaction happens only once the consumed prefix is this large and outweighs the rest,
    /// so consuming costs O(1) amortised and a small tail is never moved.
    static let compactionThreshold = 65_536

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        storage.append(contentsOf: bytes)
    }

    /// Drops `count` bytes from the front; frees the storage once everything is consumed.
    mutating func consume(_ count: Int) {
        start += min(count, self.count)
        if start == storage.count {
            removeAll()
        } else if start > Self.compactionThreshold && start * 2 > storage.count {
            storage.removeSubrange(0..<start)
            start = 0
        }
    }

    /// Empties the queue and releases its storage.
    mutating func removeAll() {
        storage = []
        start = 0
    }

    /// Calls `body` with the unconsumed bytes (valid only during the call).
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { all in try body(UnsafeRawBufferPointer(rebasing: all[start...])) }
    }
}
