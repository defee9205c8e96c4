/// A run of one room's lines on their way to the store, already in the text the store keeps
/// (`HistoryChunk`): the loop encodes each line into its room's run as it is said, and the
/// writer (SQLite) or the link (Redis) stores the bytes as they are.
///
/// Why on the loop: handing the writer thread the lines as `HistoryEntry` values cost more
/// than encoding them, since every entry was copied into the hand-over (three retains), read
/// back on the writer thread and released there (three releases, one free per line), beside
/// the encoding itself. Encoding where the line already is in cache costs only the encoding,
/// and the writer's work per line is a `memcpy`.
///
/// A run holds at most `maxLines` lines and about `maxBytes` bytes (one longer line may go
/// past it alone): small enough to be one Redis stream entry (so one entry straddling
/// `--history-max-lines` keeps a stream at most 64 lines past it: `ClusterScripts.appendHistory`),
/// and below glibc's mmap threshold (`MemoryReturn`), so a flood's runs come from the heap,
/// not from a mapping each.
public struct RoomLines: Sendable, Equatable {
    /// The room's display name when the run's first line was said, as the store keeps it (a
    /// room re-created with other capitals in the same commit is stored under the first).
    public let room: String
    /// `NameRules.fold(room)`, cached by the hub.
    public let key: String
    /// The lines in `HistoryChunk`'s text, oldest first.
    public private(set) var body: [UInt8] = []
    /// Times of the first and the last line (seconds since the epoch).
    public private(set) var first = 0.0
    public private(set) var last = 0.0
    public private(set) var lines = 0

    /// Lines one run holds at most: one Redis stream entry's worth.
    public static let maxLines = 64
    /// Bytes of stored text one run holds at most, unless its one line is longer.
    public static let maxBytes = 64 << 10
    /// A stored line's text beyond its message: the time's digits, the kind, three TABs and
    /// the LF (the sender is counted apart).
    static let bytesAroundText = 20
    /// What a run holds in memory besides its text: the struct, the array header, the
    /// allocator's rounding (an estimate, for the bound on history in flight).
    static let fixedBytesInMemory = 128

    public init(room: String, key: String) {
        self.room = room
        self.key = key
    }

    /// One room's entries as one run, whatever its size (for tests and tools; the hub builds
    /// runs line by line).
    public init(_ entries: some Collection<HistoryEntry>) {
        let room = entries.first?.room ?? ""
        self.init(room: room, key: NameRules.fold(room))
        for entry in entries { add(entry) }
    }

    /// Entries as runs, a new run where the room changes or a run is full (for tests and tools).
    public static func runs(of entries: some Sequence<HistoryEntry>) -> [RoomLines] {
        var runs: [RoomLines] = []
        for entry in entries {
            if runs.isEmpty || runs[runs.count - 1].room != entry.room || !runs[runs.count - 1].hasRoom(for: entry) {
                runs.append(RoomLines(room: entry.room, key: NameRules.fold(entry.room)))
            }
            runs[runs.count - 1].add(entry)
        }
        return runs
    }

    /// Whether `entry` may still join this run.
    public func hasRoom(for entry: borrowing HistoryEntry) -> Bool {
        lines == 0 || (lines < Self.maxLines
                       && body.count + entry.text.count + entry.sender.utf8.count + Self.bytesAroundText <= Self.maxBytes)
    }

    /// Appends one line's text.
    public mutating func add(_ entry: borrowing HistoryEntry) {
        var stamp = HistoryChunk.Stamp()
        add(entry, stamp: &stamp)
    }

    /// `add` with the digits of the last time encoded kept by the caller.
    public mutating func add(_ entry: borrowing HistoryEntry, stamp: inout HistoryChunk.Stamp) {
        if lines == 0 { first = entry.at }
        HistoryChunk.encode(entry, stamp: &stamp, into: &body)
        last = entry.at
        lines += 1
    }

    /// The lines back as entries (`HistoryChunk.decode`).
    public var entries: [HistoryEntry] { HistoryChunk.decode(body, room: room) }

    /// What the run holds in memory (`HistoryHandOver.bytes`): its buffer's capacity, not only
    /// the bytes in use.
    public var bytesInMemory: Int { body.capacity + Self.fixedBytesInMemory }
}
