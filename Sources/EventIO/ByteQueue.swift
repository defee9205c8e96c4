/// A FIFO of bytes consumed from the front by offset and compacted lazily: the one queue of
/// unsent or unread bytes, used by the server's connections (output backlog and held input, so
/// "how many bytes does this client pin" has one answer), `chatd client` and the load tool.
///
/// Inlinable: the load tool and the server append and consume on their hot paths, across the
/// module boundary.
public struct ByteQueue {
    @usableFromInline var storage: [UInt8] = []
    @usableFromInline var start = 0
    /// Whether emptying the queue keeps its storage for the next bytes (a client that always
    /// sends), or frees it (a server's idle connections should hold no memory).
    @usableFromInline let keepsCapacity: Bool

    /// Compaction happens only once the consumed prefix is this large and outweighs the rest,
    /// so consuming costs O(1) amortised and a small tail is never moved.
    public static let compactionThreshold = 65_536

    public init(keepsCapacity: Bool = false) {
        self.keepsCapacity = keepsCapacity
    }

    /// Bytes not yet consumed.
    @inlinable public var count: Int { storage.count - start }
    @inlinable public var isEmpty: Bool { storage.count == start }
    /// Bytes the queue's storage has room for (what it pins in memory).
    @inlinable public var capacity: Int { storage.capacity }

    @inlinable public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        storage.append(contentsOf: bytes)
    }

    @inlinable public mutating func append(_ byte: UInt8) {
        storage.append(byte)
    }

    @inlinable public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        storage.append(contentsOf: bytes)
    }

    /// Drops `count` bytes from the front; empties the queue once everything is consumed.
    @inlinable public mutating func consume(_ count: Int) {
        start += min(max(count, 0), self.count)
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

    /// Empties the queue, releasing its storage unless `keepsCapacity`.
    @inlinable public mutating func removeAll() {
        storage.removeAll(keepingCapacity: keepsCapacity)
        start = 0
    }

    /// Calls `body` with the unconsumed bytes (valid only during the call).
    @inlinable public func withUnsafeBytes<Value>(_ body: (UnsafeRawBufferPointer) throws -> Value) rethrows -> Value {
        try storage.withUnsafeBytes { all in try body(UnsafeRawBufferPointer(rebasing: all[start...])) }
    }
}
