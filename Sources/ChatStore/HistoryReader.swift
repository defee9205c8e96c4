import ChatCore

/// Reads a room's latest lines on the loop thread, through its own read-only connection.
///
/// This is the one read the loop makes from disk while serving: when a room is created and its
/// lines are not in memory. It is one indexed query for at most `HistorySettings.linesInMemory`
/// lines (a few chunk rows), and in WAL mode it never waits for the writer thread's commits.
/// Like nginx serving a file without `aio`, a cold page cache can make it take a disk seek;
/// moving it off the loop would need the join to wait for it, for a cost measured in
/// microseconds when the pages are cached.
public final class HistoryReader {
    private let database: Database
    private let latestChunks: Statement

    /// Opens a second connection to the database the writer uses (it must already exist).
    public init(path: String) throws {
        database = try Database(path: path, readOnly: true)
        latestChunks = try database.prepare(HistoryStore.latestChunksSQL)
    }

    /// The latest `limit` lines of one room, oldest first.
    public func recent(roomKey: String, limit: Int) throws -> [HistoryEntry] {
        try HistoryStore.recent(latestChunks, roomKey: roomKey, limit: limit)
    }
}
