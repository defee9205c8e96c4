import ChatCore

/// Room history in SQLite: append batches, read the latest lines per room, enforce retention.
/// Lines are stored in chunks, one row per room per commit, of at most 96 KiB (see
/// `HistoryChunk` for why).
/// Synchronous by design; `HistoryWriter` (ChatIO) runs it on its own thread.
public final class HistoryStore {
    public let database: Database
    private let insert: Statement
    private let latestChunks: Statement
    private let pruneRoom: Statement
    private let firstKeptByAge: Statement
    private let deleteBefore: Statement
    private let deleteOldest: Statement
    private let forgetRoom: Statement
    private let protectRoom: Statement
    private let unprotectRoom: Statement
    /// Reused for every chunk's body between batches; a room's lines of one commit are stored
    /// in rows of at most `chunkBytes` (or one run, if longer), so under a flood the buffer stays
    /// that size and is kept, and SQLite's copy of a row (its record) stays below glibc's mmap
    /// threshold (`MemoryReturn`: 128 KiB), rather than a fresh mapping and page faults per
    /// row. A buffer grown past `retainedBodyBytes` anyway (a room other than the first took it)
    /// is not kept: one flood's chunk is not held for good (measured: 1.8 MB).
    private var body: [UInt8] = []
    static let chunkBytes = 96 * 1024
    static let retainedBodyBytes = 512 * 1024

    /// Opens and migrates the database and checks it is sound: a corrupt file is an error here,
    /// at start, not halfway through a run.
    public init(path: String) throws {
        database = try Database(path: path)
        try Migrations.apply(to: database)
        let check = try database.string("PRAGMA quick_check(1)") ?? "no answer"
        guard check == "ok" else {
            throw DatabaseError(code: 11, context: "open \(path)", message: "database is corrupt: \(check)")
        }
        insert = try database.prepare("INSERT INTO chunks(room_key, room, first_at, last_at, lines, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        latestChunks = try database.prepare(Self.latestChunksSQL)
        // The newest chunk at which the room's running line count (newest first) reaches the
        // cap; everything older goes.
        pruneRoom = try database.prepare("""
            DELETE FROM chunks WHERE room_key = ?1 AND id < (
                SELECT id FROM (SELECT id, SUM(lines) OVER (ORDER BY id DESC) AS total FROM chunks WHERE room_key = ?1)
                WHERE total >= ?2 ORDER BY id DESC LIMIT 1)
            """)
        firstKeptByAge = try database.prepare("SELECT id FROM chunks WHERE last_at >= ?1 ORDER BY id LIMIT 1")
        deleteBefore = try database.prepare("DELETE FROM chunks WHERE id IN (SELECT id FROM chunks WHERE id < ?1 ORDER BY id LIMIT ?2)")
        deleteOldest = try database.prepare("DELETE FROM chunks WHERE id IN (SELECT id FROM chunks ORDER BY id LIMIT ?1)")
        forgetRoom = try database.prepare("DELETE FROM chunks WHERE room_key = ?1")
        protectRoom = try database.prepare("INSERT OR IGNORE INTO protected_rooms(room_key) VALUES (?1)")
        unprotectRoom = try database.prepare("DELETE FROM protected_rooms WHERE room_key = ?1")
    }

    /// Stores `entries` in one transaction, one row per room, in order: all or none. Returns
    /// the keys of the rooms written (for tests and tools; the writer stores runs).
    @discardableResult
    public func append(_ entries: [HistoryEntry]) throws -> [String] {
        try append([RoomLines.runs(of: entries)[...]])
    }

    /// Stores the runs of `segments` (the writer's hand-overs, in order) in one transaction, a
    /// room's runs joined into one row (rows of at most `chunkBytes`): all or none. Returns the
    /// keys of the rooms written, each once, in order. The runs arrive encoded (`RoomLines`), so
    /// a line costs the writer a `memcpy`.
    @discardableResult
    public func append(_ segments: [ArraySlice<RoomLines>]) throws -> [String] {
        try database.transaction {
            var order: [String] = []
            var chunks: [String: Chunk] = [:]
            // The room being joined is held out of the dictionary, so its body grows in place.
            var current: Chunk?
            for segment in segments {
                for run in segment {
                    if current?.key != run.key {
                        if let chunk = current { chunks[chunk.key] = chunk }
                        if let started = chunks.removeValue(forKey: run.key) {
                            current = started
                        } else {
                            order.append(run.key)
                            // The first room takes the reused buffer: usually the only one.
                            var fresh = order.count == 1 ? body : []
                            fresh.removeAll(keepingCapacity: true)
                            if order.count == 1 { body = [] }
                            current = Chunk(room: run.room, key: run.key, body: fresh)
                        }
                    }
                    if let chunk = current, chunk.lines > 0, chunk.body.count + run.body.count > Self.chunkBytes {
                        try insert(chunk)
                        current?.reset()
                    }
                    current?.add(run)
                }
            }
            if let chunk = current { chunks[chunk.key] = chunk }
            for key in order {
                if let chunk = chunks[key], chunk.lines > 0 { try insert(chunk) }
            }
            if let first = order.first, let kept = chunks[first]?.body, kept.capacity <= Self.retainedBodyBytes { body = kept }
            return order
        }
    }

    private func insert(_ chunk: Chunk) throws {
        try insert.run(.text(chunk.key), .text(chunk.room), .real(chunk.first), .real(chunk.last), .integer(Int64(chunk.lines)), text: chunk.body)
    }

    /// One room's lines of a commit: its runs joined.
    private struct Chunk {
        let room: String
        let key: String
        var body: [UInt8]
        var first = 0.0
        var last = 0.0
        var lines = 0

        init(room: String, key: String, body: [UInt8]) {
            self.room = room
            self.key = key
            self.body = body
        }

        mutating func add(_ run: RoomLines) {
            if lines == 0 { first = run.first }
            body.append(contentsOf: run.body)
            last = run.last
            lines += run.lines
        }

        /// Empty again, keeping the buffer, after its lines were stored.
        mutating func reset() {
            body.removeAll(keepingCapacity: true)
            lines = 0
        }
    }

    /// Every room that has history, by key.
    public func roomKeys() throws -> [String] {
        let statement = try database.prepare("SELECT DISTINCT room_key FROM chunks")
        var keys: [String] = []
        while try statement.step() { keys.append(statement.text(0)) }
        return keys
    }

    /// The latest `limit` lines of one room, oldest first.
    public func recent(roomKey: String, limit: Int) throws -> [HistoryEntry] {
        try Self.recent(latestChunks, roomKey: roomKey, limit: limit)
    }

    /// Reads newest chunks until `limit` lines are in hand (shared with `HistoryReader`).
    static func recent(_ latestChunks: Statement, roomKey: String, limit: Int) throws -> [HistoryEntry] {
        try latestChunks.bind(.text(roomKey))
        var chunks: [[HistoryEntry]] = []
        var total = 0
        while total < limit, try latestChunks.step() {
            let lines = HistoryChunk.decode(latestChunks.bytes(2), room: latestChunks.text(0))
            total += lines.count
            chunks.append(lines)
        }
        try latestChunks.bind()  // end the read, so it holds no snapshot
        return Array(chunks.reversed().joined().suffix(limit))
    }

    /// The statement `recent` uses, for a reader on another connection.
    static let latestChunksSQL = "SELECT room, lines, body FROM chunks WHERE room_key = ?1 ORDER BY id DESC"

    /// Deletes a room's chunks older than its latest `keep` lines (a room keeps between `keep`
    /// and `keep` plus one chunk); returns how many chunks went.
    @discardableResult
    public func prune(roomKey: String, keep: Int) throws -> Int {
        try pruneRoom.bind(.text(roomKey), .integer(Int64(max(1, keep))))
        try pruneRoom.step()
        return Int(database.changes)
    }

    /// Deletes chunks whose newest line is older than `cutoff` (seconds since the epoch), at
    /// most `limit` at a time so the writer can commit new lines in between; returns how many
    /// went. Ids rise with time, so the scan stops at the first chunk young enough to keep.
    @discardableResult
    public func prune(olderThan cutoff: Double, limit: Int) throws -> Int {
        try firstKeptByAge.bind(.real(cutoff))
        let bound = try firstKeptByAge.step() ? firstKeptByAge.integer(0) : Int64.max
        try firstKeptByAge.bind()
        try deleteBefore.bind(.integer(bound), .integer(Int64(max(1, limit))))
        try deleteBefore.step()
        return Int(database.changes)
    }

    /// Deletes a room's history now and its protected mark (the room was protected and emptied).
    public func forget(roomKey: String) throws {
        try database.transaction {
            try forgetRoom.bind(.text(roomKey))
            try forgetRoom.step()
            try unprotectRoom.bind(.text(roomKey))
            try unprotectRoom.step()
        }
    }

    /// Marks a room as protected, so its history is forgotten at the next start if it is not
    /// forgotten before.
    public func protect(roomKey: String) throws {
        try protectRoom.bind(.text(roomKey))
        try protectRoom.step()
    }

    /// The room lost its last key or ban: its history is no longer forgotten at the next start.
    public func unprotect(roomKey: String) throws {
        try unprotectRoom.bind(.text(roomKey))
        try unprotectRoom.step()
    }

    /// At start every room is empty and its key and bans are gone: forget the history of every
    /// room that had them. Returns how many rooms that was.
    @discardableResult
    public func forgetProtectedRooms() throws -> Int {
        try database.transaction {
            let rooms = Int(try database.integer("SELECT count(*) FROM protected_rooms"))
            try database.execute("DELETE FROM chunks WHERE room_key IN (SELECT room_key FROM protected_rooms); DELETE FROM protected_rooms")
            return rooms
        }
    }

    /// Bytes the database's live pages take (page count less free pages, times page size):
    /// O(1), from the header, not a scan.
    public func usedBytes() throws -> Int {
        let pages = try database.integer("PRAGMA page_count") - (try database.integer("PRAGMA freelist_count"))
        return Int(pages) * Int(try database.integer("PRAGMA page_size"))
    }

    /// Deletes the `limit` oldest chunks of any room (the size cap); returns how many went.
    @discardableResult
    public func pruneOldest(limit: Int) throws -> Int {
        try deleteOldest.bind(.integer(Int64(max(1, limit))))
        try deleteOldest.step()
        return Int(database.changes)
    }

    /// Lines stored in all rooms.
    public func lineCount() throws -> Int { Int(try database.integer("SELECT coalesce(sum(lines), 0) FROM chunks")) }
}
