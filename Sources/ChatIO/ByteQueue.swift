/// A FIFO of bytes consumed from the front by offset and compacted lazily: a client's unsent
/// output backlog and its held (unread-by-the-hub) input both use it, so "how many bytes does
/// this client pin" has one answer.
struct ByteQueue {
    private var storage: [UInt8] = []
    private var start = 0

    /// Bytes not yet consumed.
    var count: Int { storage.count - start }
    var isEmpty: Bool { storage.count == start }
    /// Bytes the queue's storage has room for (what it pins in memory).
    var capacity: Int { storage.capacity }

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
            // A copy of the rest, not `removeSubrange`, which keeps the capacity: a queue that
            // once held megabytes would pin them for as long as a few bytes remain (measured:
            // 3.7 MB held for 400 bytes after a flood).
            storage = Array(storage[start...])
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
