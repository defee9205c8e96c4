/// The latest lines of every room, in memory: what `/join` replays and `/history` reads, so a
/// replay never waits on disk. Filled from the database at start, then by the hub as lines are
/// said, in the same loop iteration as their fan-out — so a joiner's replay holds exactly the
/// lines said before it joined, and everything later reaches it live.
public struct HistoryBook {
    /// Lines replayed on join, and shown by `/history` without a count, unless configured.
    public static let defaultReplayLines = 20
    /// Lines kept per room (the most `/history` can show).
    public let linesPerRoom: Int
    /// Rooms kept; past this the room with the oldest last line is forgotten (its lines stay
    /// in the database).
    public let maxRooms: Int
    private var rings: [String: Ring] = [:]

    public init(linesPerRoom: Int, maxRooms: Int = 10_000) {
        self.linesPerRoom = max(1, linesPerRoom)
        self.maxRooms = max(1, maxRooms)
    }

    /// Rooms with lines in memory.
    public var roomCount: Int { rings.count }

    /// Adds a line to its room (`key` is `NameRules.fold(entry.room)`, which the caller has
    /// cached), dropping the room's oldest line when full.
    public mutating func record(_ entry: HistoryEntry, key: String) {
        if rings[key] == nil && rings.count >= maxRooms { forgetQuietestRoom() }
        rings[key, default: Ring(capacity: linesPerRoom)].append(entry)
    }

    /// The latest `count` lines of a room (by display or folded name), oldest first.
    public func recent(_ room: String, count: Int) -> [HistoryEntry] {
        guard count > 0, let ring = rings[NameRules.fold(room)] else { return [] }
        return ring.last(count)
    }

    private mutating func forgetQuietestRoom() {
        guard let quietest = rings.min(by: { ($0.value.newestTime ?? 0) < ($1.value.newestTime ?? 0) })?.key else { return }
        rings[quietest] = nil
    }

    /// A fixed-capacity ring of lines, oldest overwritten first.
    struct Ring {
        private var storage: [HistoryEntry] = []
        private var start = 0
        let capacity: Int

        init(capacity: Int) { self.capacity = capacity }

        var newestTime: Double? { storage.isEmpty ? nil : storage[(start + storage.count - 1) % storage.count].at }

        mutating func append(_ entry: HistoryEntry) {
            if storage.count < capacity {
                storage.append(entry)
            } else {
                storage[start] = entry
                start = (start + 1) % capacity
            }
        }

        func last(_ count: Int) -> [HistoryEntry] {
            let shown = min(count, storage.count)
            return (storage.count - shown..<storage.count).map { storage[(start + $0) % storage.count] }
        }
    }
}
