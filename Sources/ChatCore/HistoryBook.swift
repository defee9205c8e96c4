/// The latest lines of rooms, in memory: what `/join` replays and `/history` reads, so a replay
/// never waits on disk. Lines are recorded by the hub in the same loop iteration as their
/// fan-out, so a joiner's replay holds exactly the lines before it joined, and everything later
/// reaches it live.
///
/// Memory follows live rooms, within a byte budget:
/// - A room that exists has its ring here (loaded from the database when the room is created).
/// - When a room empties its ring is *parked*: kept, so a quick rejoin needs no disk read, but
///   the first to go when the book is over `memoryBudget` (oldest parked first). A parked ring
///   is evicted only once the database writer has committed the hand-over batch holding its
///   last line (`durableBatch`), so a reload from disk never misses a line.
/// - If evicting parked rings is not enough, a live room that records a line while the book is
///   over budget drops its oldest lines down to `linesKeptUnderPressure`, so the worst case is
///   about `linesKeptUnderPressure` lines per live room (rooms are capped by `maxRooms`).
public struct HistoryBook {
    /// Lines replayed on join, and shown by `/history` without a count, unless configured.
    public static let defaultReplayLines = 20
    /// Default for `memoryBudget` (`--history-memory`).
    public static let defaultMemoryBudget = 64 << 20
    /// Estimated bytes one line costs besides its text and names: the entry, array and string
    /// headers and allocator rounding (measured order of magnitude, not exact).
    static let overheadPerLine = 96

    /// Lines kept per room (the most `/history` can show).
    public let linesPerRoom: Int
    /// Bytes the rings may use before parked rings are evicted and live ones trimmed.
    public var memoryBudget: Int
    /// The fewest lines a live room keeps under memory pressure (at least the replay count).
    public var linesKeptUnderPressure = defaultReplayLines
    /// Estimated bytes in all rings.
    public private(set) var bytes = 0

    private var rings: [String: Ring] = [:]
    /// Parked rooms by key, with the hand-over batch that must be durable before the ring may
    /// go; `parkQueue` holds the same in parking order (batches only grow), with stale entries
    /// (unparked or parked again since) skipped when popped.
    private var parkedAt: [String: UInt64] = [:]
    private var parkQueue: [(key: String, batch: UInt64)] = []
    private var parkQueueHead = 0
    /// The last replay `frameRecent` made, kept for the next (see there).
    private var lastFramed = FramedReplay()
    /// Rings' `serial`s come from this counter (moved for every line recorded and ring loaded).
    private var nextRingSerial: UInt64 = 0
    /// Lines `frameRecent` kept from the last replay instead of framing them
    /// (for tests: that the cache is used, and not after its room is gone).
    private(set) var framedLinesReused = 0

    public init(linesPerRoom: Int, memoryBudget: Int = HistoryBook.defaultMemoryBudget) {
        self.linesPerRoom = max(1, linesPerRoom)
        self.memoryBudget = max(0, memoryBudget)
    }

    /// Rooms with lines in memory.
    public var roomCount: Int { rings.count }
    /// Rooms whose rings are parked (no members).
    public var parkedCount: Int { parkedAt.count }

    /// Whether `key`'s ring is in memory (live or parked).
    public func contains(_ key: String) -> Bool { rings[key] != nil }

    /// Adds a line to its room (`key` is `NameRules.fold(entry.room)`, which the caller has
    /// cached), dropping the room's oldest line when full.
    /// `batch` is the writer hand-over the line goes out in (it must be durable before the
    /// ring may be evicted once parked). Over budget, parked rings go first, then this ring is
    /// trimmed to `linesKeptUnderPressure`.
    public mutating func record(_ entry: consuming HistoryEntry, key: String, batch: UInt64 = 0, durableBatch: UInt64 = .max) {
        let cost = Self.cost(of: entry)
        bytes += cost
        // One hash lookup, the ring edited in place (the per-line cost when history is on). The
        // serial a ring made here gets is taken from a counter moved on every line: unique, and
        // cheaper than a second lookup to learn whether the ring was made.
        nextRingSerial &+= 1
        let serial = nextRingSerial
        if let dropped = rings[key, default: Ring(capacity: linesPerRoom, serial: serial)].append(entry, cost: cost, batch: batch) { bytes -= dropped }
        if bytes > memoryBudget {
            evictParked(durableBatch: durableBatch)
            if bytes > memoryBudget, let released = rings[key]?.trim(to: linesKeptUnderPressure) {
                bytes -= released
                lastFramed = FramedReplay()  // outside the budget: not kept under pressure
            }
        }
    }

    /// Puts a room's lines (from the database, oldest first) in memory when the room comes back.
    public mutating func load(_ entries: [HistoryEntry], key: String, durableBatch: UInt64 = .max) {
        removeRing(key)
        unpark(key)
        nextRingSerial &+= 1
        var ring = Ring(capacity: linesPerRoom, serial: nextRingSerial)
        for entry in entries.suffix(linesPerRoom) {
            let cost = Self.cost(of: entry)
            bytes += cost
            if let dropped = ring.append(entry, cost: cost, batch: 0) { bytes -= dropped }  // on disk already
        }
        if bytes > memoryBudget {
            evictParked(durableBatch: durableBatch)
            if bytes > memoryBudget { bytes -= ring.trim(to: linesKeptUnderPressure) }
        }
        rings[key] = ring
    }

    /// The room emptied: keep its ring while memory allows; it may go once the hand-over batch
    /// of its newest line is durable.
    public mutating func park(_ key: String, durableBatch: UInt64 = .max) {
        guard let batch = rings[key]?.newestBatch else { return }
        parkedAt[key] = batch
        parkQueue.append((key, batch))
        if bytes > memoryBudget { evictParked(durableBatch: durableBatch) }
        // Parking and unparking leave stale queue entries behind even while under budget.
        if parkQueue.count - parkQueueHead > 2 * parkedAt.count + 1024 {
            parkQueue = parkQueue[parkQueueHead...].filter { parkedAt[$0.key] == $0.batch }
            parkQueueHead = 0
        }
    }

    /// Evicts parked rings, oldest first, while over budget and durable on disk.
    public mutating func evictParked(durableBatch: UInt64) {
        while bytes > memoryBudget, parkQueueHead < parkQueue.count {
            let (key, batch) = parkQueue[parkQueueHead]
            guard parkedAt[key] == batch else {  // unparked or parked again since: stale
                parkQueueHead += 1
                continue
            }
            if batch > durableBatch { break }
            parkQueueHead += 1
            parkedAt[key] = nil
            removeRing(key)
        }
        if parkQueueHead > 1024 && parkQueueHead * 2 > parkQueue.count {
            parkQueue.removeFirst(parkQueueHead)
            parkQueueHead = 0
        }
    }

    /// The room exists again; returns whether its ring was still in memory.
    @discardableResult
    public mutating func unpark(_ key: String) -> Bool {
        parkedAt[key] = nil
        return rings[key] != nil
    }

    /// Drops a room's lines from memory (its access rules went with it).
    public mutating func forget(_ key: String) {
        parkedAt[key] = nil
        removeRing(key)
    }

    /// Takes a room's ring out of memory, and the last framed replay with it if it was that
    /// room's: a forgotten room's lines must not outlive it anywhere.
    private mutating func removeRing(_ key: String) {
        if let ring = rings.removeValue(forKey: key) { bytes -= ring.bytes }
        if lastFramed.key == key { lastFramed = FramedReplay() }
    }

    /// The latest `count` lines of a room (by display or folded name), oldest first.
    public func recent(_ room: String, count: Int) -> [HistoryEntry] {
        recent(key: NameRules.fold(room), count: count)
    }

    /// The latest `count` lines of the room with folded name `key`, oldest first.
    public func recent(key: String, count: Int) -> [HistoryEntry] {
        guard count > 0, let ring = rings[key] else { return [] }
        return ring.last(count)
    }

    /// The line itself plus its rendered body (about as long again: the text, the sender and a
    /// timestamp), plus headers.
    static func cost(of entry: HistoryEntry) -> Int {
        2 * (entry.text.count + entry.sender.utf8.count) + entry.room.utf8.count + overheadPerLine
    }

    /// The latest `count` lines of a room less the `skipped` newest, oldest first, as rendered
    /// bodies (see `WireStyle.historyBody`): what a replay copies. A line's body is rendered the
    /// first time a replay needs it and kept for every later one, so lines nobody replays (most
    /// lines of a busy room: only the newest are replayed) are never rendered, and a line
    /// replayed to many joiners is rendered once. Handed to `visit` one by one, not gathered
    /// into an array: a replay goes to every joiner.
    public mutating func forEachRecentBody(key: String, count: Int, skippingNewest skipped: Int = 0, _ visit: ([UInt8]) -> Void) {
        guard count > 0 else { return }
        rings[key]?.forEachBody(newest: count, skippingNewest: max(0, skipped), visit)
    }

    /// The byte counts of the bodies `forEachRecentBody` would hand over, in the same order
    /// (a replay's cost, before it is rendered), read without a copy of any body.
    public mutating func forEachRecentBodySize(key: String, count: Int, skippingNewest skipped: Int = 0, _ visit: (Int) -> Void) {
        guard count > 0 else { return }
        rings[key]?.forEachBodySize(newest: count, skippingNewest: max(0, skipped), visit)
    }

    /// Frames the same lines as `forEachRecentBody`, each as `prefix`, its body and a newline
    /// (a protocol whose replay is just framed lines: chatd's own), for `appendFramed`. Returns
    /// how many lines, their cost (each line's framed bytes plus `extraPerLine`) and how many
    /// of the oldest are left out so that the cost is at most `allowance`.
    ///
    /// The framed bytes of the last such replay are kept (one replay's worth, whatever the
    /// number of rooms), and a replay of the same room with the same prefix that slides over
    /// it (a joiner after the previous one, a few lines said meanwhile) drops the lines that
    /// left the window, frames only the new ones, and keeps the rest as they are. Lines are
    /// known by their ring (`Ring.serial`, never reused) and their place in its sequence of
    /// lines (`Ring.appended`, which a trim keeps), so the bytes are always those of framing
    /// every line afresh, which is what any other replay does; and a removed ring takes the
    /// kept replay with it (`removeRing`), so a forgotten room's lines outlive it nowhere. The
    /// cost is read from the kept lines' lengths: no walk over the bodies.
    public mutating func frameRecent(key: String, count: Int, skippingNewest skipped: Int = 0, prefix: [UInt8],
                                     extraPerLine: Int, fitting allowance: Int = .max) -> (lines: Int, cost: Int, dropped: Int) {
        var cache = FramedReplay()
        swap(&cache, &lastFramed)
        defer { swap(&cache, &lastFramed) }
        if cache.key != key || cache.prefix != prefix { cache = FramedReplay(key: key, prefix: prefix) }
        guard count > 0, let reused = rings[key]?.slide(&cache, newest: count, skippingNewest: max(0, skipped)) else {
            cache = FramedReplay()  // `appendFramed` then appends nothing
            return (0, 0, 0)
        }
        framedLinesReused += reused
        let lines = cache.lineEnds.count
        var cost = cache.run.count + lines * extraPerLine
        var dropped = 0
        while cost > allowance && dropped < lines {
            cost -= cache.lineEnds[dropped] - (dropped == 0 ? 0 : cache.lineEnds[dropped - 1]) + extraPerLine
            dropped += 1
        }
        return (lines, cost, dropped)
    }

    /// Appends the last `frameRecent`'s lines from line `first` (oldest first) on to `out`
    /// (nothing if that call found no lines): call it right after `frameRecent`.
    /// Mutating only so that it is reached in place through the hub, not on a copy of the book.
    public mutating func appendFramed(fromLine first: Int, into out: inout [UInt8]) {
        let start = first == 0 ? 0 : lastFramed.lineEnds[first - 1]
        out.append(contentsOf: lastFramed.run[start...])
    }

    /// One replay's framed lines (`frameRecent`).
    struct FramedReplay {
        var key = ""
        var prefix: [UInt8] = []
        /// The ring the lines were framed from (`Ring.serial`; none yet: `.max`).
        var ringSerial = UInt64.max
        /// The ring sequence number of the oldest line framed (`Ring.appended` counts them).
        var firstLine: UInt64 = 0
        /// Where each line ends in `run`, oldest first.
        var lineEnds: [Int] = []
        var run: [UInt8] = []

        /// The sequence number after the newest line framed.
        var endLine: UInt64 { firstLine + UInt64(lineEnds.count) }

        mutating func append(_ body: [UInt8]) {
            run.append(contentsOf: prefix)
            run.append(contentsOf: body)
            run.append(0x0A)
            lineEnds.append(run.count)
        }

        /// Forgets the `count` oldest lines.
        mutating func dropOldest(_ count: Int) {
            guard count > 0 else { return }
            firstLine += UInt64(count)
            guard count < lineEnds.count else {
                lineEnds.removeAll(keepingCapacity: true)
                run.removeAll(keepingCapacity: true)
                return
            }
            let cut = lineEnds[count - 1]
            run.removeFirst(cut)
            lineEnds.removeFirst(count)
            for index in lineEnds.indices { lineEnds[index] -= cut }
        }

        /// Starts again at sequence number `line`, nothing framed.
        mutating func restart(at line: UInt64) {
            firstLine = line
            lineEnds.removeAll(keepingCapacity: true)
            run.removeAll(keepingCapacity: true)
        }
    }

    /// A fixed-capacity ring of lines, oldest overwritten first, with its byte estimate.
    struct Ring {
        private var storage: [HistoryEntry] = []
        /// Parallel to `storage`: each line's body, rendered when a replay first needs it.
        private var bodies: [[UInt8]?] = []
        private var costs: [Int] = []
        private var start = 0
        let capacity: Int
        private(set) var bytes = 0
        /// The writer hand-over batch of the newest line (0: read from disk).
        private(set) var newestBatch: UInt64 = 0
        /// Lines ever appended: the newest line's sequence number plus one (a kept replay's lines
        /// are known by these numbers).
        private(set) var appended: UInt64 = 0

        /// Unique among the book's rings, ever: a kept replay is matched to its ring by it.
        let serial: UInt64

        init(capacity: Int, serial: UInt64) {
            self.capacity = capacity
            self.serial = serial
        }

        /// Appends; returns the cost of the line it overwrote, if any.
        mutating func append(_ entry: consuming HistoryEntry, cost: Int, batch: UInt64) -> Int? {
            bytes += cost
            newestBatch = max(newestBatch, batch)
            appended &+= 1
            if storage.count < capacity {
                storage.append(entry)
                bodies.append(nil)
                costs.append(cost)
                return nil
            }
            let dropped = costs[start]
            storage[start] = entry
            bodies[start] = nil
            costs[start] = cost
            start = (start + 1) % capacity
            bytes -= dropped
            return dropped
        }

        /// Keeps only the newest `count` lines; returns the bytes released.
        mutating func trim(to count: Int) -> Int {
            guard storage.count > count else { return 0 }
            let kept = last(count)
            let keptBodies = (storage.count - count..<storage.count).map { bodies[(start + $0) % storage.count] }
            let keptCosts = (storage.count - count..<storage.count).map { costs[(start + $0) % storage.count] }
            let before = bytes
            storage = kept
            bodies = keptBodies
            costs = keptCosts
            start = 0
            bytes = keptCosts.reduce(0, +)
            return before - bytes
        }

        func last(_ count: Int) -> [HistoryEntry] {
            let shown = min(count, storage.count)
            return (storage.count - shown..<storage.count).map { storage[(start + $0) % storage.count] }
        }

        /// Of the newest `count + skipped` lines, all but the `skipped` newest, oldest first:
        /// each line's body, rendered (and kept) if it was not yet.
        mutating func forEachBody(newest count: Int, skippingNewest skipped: Int, _ visit: ([UInt8]) -> Void) {
            for index in indices(newest: count, skippingNewest: skipped) { visit(body(at: index)) }
        }

        /// `forEachBody`'s bodies' byte counts.
        mutating func forEachBodySize(newest count: Int, skippingNewest skipped: Int, _ visit: (Int) -> Void) {
            for index in indices(newest: count, skippingNewest: skipped) { visit(body(at: index).count) }
        }

        /// Moves `cache` to this ring's newest `count` lines less the `skipped` newest: keeps the
        /// lines it shares with that window, frames the newer ones, or frames the window afresh
        /// if it is not a slide of the cache. Returns how many framed lines were kept.
        mutating func slide(_ cache: inout FramedReplay, newest count: Int, skippingNewest skipped: Int) -> Int {
            let lines = window(newest: count, skippingNewest: skipped)
            let (first, end) = (lines.lowerBound, lines.upperBound)
            if cache.ringSerial == serial && cache.firstLine <= first && first <= cache.endLine && cache.endLine <= end {
                cache.dropOldest(Int(first - cache.firstLine))
            } else {
                cache.ringSerial = serial
                cache.restart(at: first)
            }
            let kept = cache.lineEnds.count
            for line in cache.endLine..<end { cache.append(body(at: storageIndex(ofLine: line))) }
            return kept
        }

        /// Storage indices of those lines, oldest first.
        private func indices(newest count: Int, skippingNewest skipped: Int) -> LazyMapSequence<Range<UInt64>, Int> {
            window(newest: count, skippingNewest: skipped).lazy.map { storageIndex(ofLine: $0) }
        }

        /// The line numbers (`appended` counts them) of the newest `count + skipped` lines held,
        /// less the `skipped` newest: the one place a replay's window is worked out.
        private func window(newest count: Int, skippingNewest skipped: Int) -> Range<UInt64> {
            let total = min(count + skipped, storage.count)
            return (appended - UInt64(total))..<(appended - UInt64(min(skipped, total)))
        }

        /// Where line number `line` (one of those held) is in `storage`.
        private func storageIndex(ofLine line: UInt64) -> Int {
            (start + Int(line - (appended - UInt64(storage.count)))) % storage.count
        }

        /// The body of the line at storage `index`, rendered (and kept) the first time it is asked for.
        private mutating func body(at index: Int) -> [UInt8] {
            if let body = bodies[index] { return body }
            let body = WireStyle.historyBody(storage[index])
            bodies[index] = body
            return body
        }
    }
}
