/// Room history as the hub keeps it: the rings of latest lines, what is waiting for the
/// database writer, and the rule that a room's history lives no longer than the access rules
/// that guard it.
///
/// A room that has a key or bans when it empties loses its history, in memory and on disk: the
/// key and bans live only as long as the room (IRC channel-mode semantics), and history that
/// outlived them would be readable by whoever re-creates the room — the very people they kept
/// out. The store is told as soon as a room gains a key or a ban, so a restart (even after a
/// kill -9) forgets such rooms' history too.
struct RoomHistory {
    /// The latest lines of each room (nil: history is off, nothing is kept or replayed).
    var book: HistoryBook?
    /// Lines replayed on join (0: none; `/history` still answers).
    var replayLines = HistoryBook.defaultReplayLines
    /// Whether remembered lines are also queued in `pendingRuns` for the store.
    var persists = false
    /// Lines said since the I/O layer last took them for the store, encoded as they come, one
    /// run per room (and more when a run is full or a room change comes between).
    private(set) var pendingRuns: [RoomLines] = []
    /// Runs that lines may still join, by room key: each room's newest run after the latest
    /// room change (`openFrom`, the index of the first run after it).
    private var openRuns: [String: Int] = [:]
    private var openFrom = 0
    /// The digits of the last time encoded (a flood's lines share them).
    private var stamp = HistoryChunk.Stamp()
    /// Lines in `pendingRuns`.
    private(set) var pendingLineCount = 0
    /// What `pendingRuns` holds in memory (`RoomLines.bytesInMemory` summed).
    private(set) var pendingBytes = 0
    /// Rooms whose stored history must be protected or forgotten, in order with the lines.
    var pendingRoomChanges: [PendingRoomChange] = []
    /// The number of the hand-over batch `pendingRuns` will go out in, and the newest batch
    /// the writer has finished with: a parked ring may leave memory only once its batch is
    /// durable. Without a writer every batch counts as durable.
    var batch: UInt64 = 1
    private(set) var durableBatch: UInt64 = .max
    /// Protected rooms forgotten in a batch the writer may not have finished: not read back.
    private var forgottenRoomBatches: [String: UInt64] = [:]
    /// Reads a room's latest lines from the store (folded name → oldest first) when a room is
    /// created and its ring is not in memory; nil when history is in memory only.
    var loader: ((String) -> [HistoryEntry])?

    init() {}

    /// Stores a line in its room's ring and, when history is persisted and `store` (the line
    /// was said on this node), queues it for the store.
    /// The entry is consumed: encoded for the store first, then moved into the ring, so the
    /// line's text and names are not retained and released once more on the way.
    mutating func remember(_ entry: consuming HistoryEntry, key: String, store: Bool = true) {
        guard book != nil else { return }
        if persists && store { queue(entry, key: key) }
        book?.record(entry, key: key, batch: batch, durableBatch: durableBatch)
    }

    /// Encodes a line into its room's open run: the last run when it is this room's (one
    /// compare, the common case), else the room's run looked up, else a new one.
    private mutating func queue(_ entry: borrowing HistoryEntry, key: String) {
        var index = pendingRuns.count - 1
        if index < openFrom || pendingRuns[index].key != key { index = openRuns[key] ?? -1 }
        if index < 0 || !pendingRuns[index].hasRoom(for: entry) {
            index = pendingRuns.count
            pendingRuns.append(RoomLines(room: entry.room, key: key))
            openRuns[key] = index
            pendingBytes += RoomLines.fixedBytesInMemory
        }
        let capacity = pendingRuns[index].body.capacity
        pendingRuns[index].add(entry, stamp: &stamp)
        pendingBytes += pendingRuns[index].body.capacity - capacity
        pendingLineCount += 1
    }

    /// The store is on: from now on a batch is durable only when the writer says so.
    mutating func startPersisting() {
        persists = true
        durableBatch = 0
    }

    /// History is stored where a ring cannot be reloaded from at once (a cluster's Redis
    /// streams, read asynchronously): lines are still handed over, through the same hand-over
    /// as to the database, but every batch counts as durable at once (a parked ring is never
    /// reloaded from there, so there is nothing to wait for).
    mutating func persistWithoutReload() {
        persists = true
        durableBatch = .max
        loader = nil
    }

    /// A room was created: bring its ring back, from memory if it was parked, else from the
    /// store (one indexed read of at most the ring's size).
    ///
    /// A room forgotten so recently that the writer has not deleted its lines yet starts empty:
    /// reading the database then would bring the forgotten lines back.
    mutating func roomCreated(key: String) {
        guard book != nil, book?.unpark(key) == false, let loader else { return }
        if let forgotten = forgottenRoomBatches[key] {
            if forgotten > durableBatch { return }
            forgottenRoomBatches[key] = nil
        }
        book?.load(loader(key), key: key, durableBatch: durableBatch)
    }

    /// The writer has finished every hand-over batch up to `batch`: parked rings up to it may
    /// leave memory, and rooms forgotten up to it are gone from the database too.
    mutating func durable(through finished: UInt64) {
        guard finished > durableBatch else { return }
        durableBatch = finished
        book?.evictParked(durableBatch: finished)
        if !forgottenRoomBatches.isEmpty { forgottenRoomBatches = forgottenRoomBatches.filter { $0.value > finished } }
    }

    /// A room emptied and is gone: park its ring, or forget it if the room was protected.
    mutating func roomDeleted(_ room: Room) {
        guard book != nil else { return }
        if room.isProtected {
            book?.forget(room.key)
            if persists {
                queueRoomChange(.forget(room.key))
                if durableBatch != .max { forgottenRoomBatches[room.key] = batch }  // only a store reloaded from can bring them back
            }
        } else {
            book?.park(room.key, durableBatch: durableBatch)
        }
    }

    /// A room's key or bans changed: a room that gained its first one must not have history that
    /// outlives it, even across a crash; one that lost its last one keeps its history again.
    mutating func accessChanged(_ room: Room, wasProtected: Bool) {
        guard persists, room.isProtected != wasProtected else { return }
        queueRoomChange(room.isProtected ? .protect(room.key) : .unprotect(room.key))
    }

    /// What is waiting for the store writer, as the next batch; nil when nothing is.
    mutating func takeHandOver() -> HistoryHandOver? {
        guard !pendingRuns.isEmpty || !pendingRoomChanges.isEmpty else { return nil }
        let handOver = HistoryHandOver(runs: pendingRuns, lineCount: pendingLineCount, bytes: pendingBytes,
                                       roomChanges: pendingRoomChanges, batch: batch)
        // A fresh array, not `removeAll(keepingCapacity:)`: the writer now shares the old one.
        pendingRuns = []
        openRuns.removeAll(keepingCapacity: true)
        openFrom = 0
        pendingLineCount = 0
        pendingBytes = 0
        pendingRoomChanges.removeAll()
        batch += 1
        return handOver
    }

    /// Queues a room change at its place among this iteration's runs; lines said after it
    /// start new runs, so none is stored on the wrong side of it.
    private mutating func queueRoomChange(_ change: RoomHistoryChange) {
        pendingRoomChanges.append(PendingRoomChange(change: change, afterRuns: pendingRuns.count))
        openRuns.removeAll(keepingCapacity: true)
        openFrom = pendingRuns.count
    }
}

/// A change to a room's stored history that the database writer applies in order with lines.
public enum RoomHistoryChange: Sendable, Equatable {
    /// The room has a key or bans: forget its history at the next start.
    case protect(String)
    /// The room's last key or ban is gone: its history is kept again.
    case unprotect(String)
    /// Delete the room's history now (it was protected and emptied).
    case forget(String)
}

/// A room change and how many of the same hand-over's runs come before it, so the writer
/// applies it exactly there: a forget must not delete a line said after it.
public struct PendingRoomChange: Sendable, Equatable {
    public let change: RoomHistoryChange
    public let afterRuns: Int
}
