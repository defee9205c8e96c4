import CSQLite

/// One SQLite connection. Not thread-safe (opened with SQLITE_OPEN_NOMUTEX): the owner uses it
/// from one thread at a time — the loop thread while starting, then only the writer thread.
public final class Database {
    /// `sqlite3 *`, closed in deinit.
    let handle: OpaquePointer
    public let path: String

    /// Opens (creating if needed) the database at `path` in WAL mode. WAL lets a commit append
    /// to the log without rewriting pages, and with `synchronous = NORMAL` a commit survives the
    /// process being killed (the log is in the OS's hands); only a power cut can lose the last
    /// commits, which the README states.
    ///
    /// `readOnly` opens a second connection for reads beside the writer's (WAL lets readers go
    /// on while the writer commits); the file must exist and already be in WAL mode.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var opened: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &opened, flags, nil)
        guard result == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(result))
            sqlite3_close_v2(opened)
            throw DatabaseError(code: result, context: "open \(path)", message: message)
        }
        handle = opened
        sqlite3_extended_result_codes(opened, 1)
        sqlite3_busy_timeout(opened, 2000)
        // SQLITE_OPEN_READWRITE quietly falls back to read-only when the OS refuses to open
        // the file for writing; chatd would then lose every line and account while running.
        guard readOnly || sqlite3_db_readonly(opened, "main") != 1 else {
            throw DatabaseError(code: SQLITE_READONLY, context: "open \(path)", message: "the file is read-only for this user; chatd must be able to write it")
        }
        // The first statement is where SQLite reads the file: a non-database fails here.
        let mode: String?
        do {
            // Before the first table exists (the page size of an existing file is kept).
            if !readOnly { try execute("PRAGMA page_size = \(Self.pageBytes)") }
            mode = try string(readOnly ? "PRAGMA journal_mode" : "PRAGMA journal_mode = WAL")
            if !readOnly {
                try execute("PRAGMA synchronous = NORMAL")
                let pageBytes = max(512, Int(try integer("PRAGMA page_size")))
                try execute("PRAGMA wal_autocheckpoint = \(max(1, Self.checkpointBytes / pageBytes))")
                try probeWrite()
            }
        } catch let error as DatabaseError {
            throw DatabaseError(code: error.code, context: "open \(path)", message: error.message)
        }
        guard mode?.lowercased() == "wal" else {
            throw DatabaseError(code: SQLITE_ERROR, context: "open \(path)", message: "WAL mode refused (journal_mode is \(mode ?? "unknown"))")
        }
    }

    /// Page size of a new database file: a trade between a flood and a quiet server, measured.
    /// History is stored in chunks of up to 96 KiB, each an overflow chain, and WAL writes each
    /// page as a frame of its own (two `pwrite`s), while a commit rewrites whole pages: the
    /// history writer's CPU in the 5 s fan-out flood (ticks) was 27-28 at SQLite's default
    /// 4 KiB, 21-22 at 16 KiB, 18-19 at 64 KiB; the bytes written per one-line commit (a quiet
    /// server) 8.5 KB, 33 KB and 139 KB. 16 KiB takes two thirds of the flood's saving for four
    /// times the quiet write volume (64 KiB would cost sixteen).
    static let pageBytes = 16_384
    /// The log is copied back into the file after this many bytes (SQLite's default is 1,000
    /// pages, 4 MB at its default page size; kept in bytes whatever the page size).
    static let checkpointBytes = 4 << 20

    /// A real committed write at start (the schema version rewritten with its own value), so a
    /// database that opens but cannot be written — its directory refuses the -wal and -shm
    /// files, the disk is full, the file is locked read-only — is an error now, not a silent
    /// loss later. Rewriting `user_version` changes nothing but still writes the header page.
    private func probeWrite() throws {
        try transaction {
            let version = try integer("PRAGMA user_version")
            try execute("PRAGMA user_version = \(version)")
        }
    }

    deinit {
        // close_v2 waits for any statement still alive to be finalized, so order is free.
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows (DDL, PRAGMAs, BEGIN/COMMIT).
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        if result != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(result))
            sqlite3_free(message)
            throw DatabaseError(code: result, context: "\(path): \(sql.prefix(60))", message: text)
        }
    }

    /// Compiles `sql` once; the statement is reused with new bindings (prepared statements).
    public func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else {
            throw error(result, "prepare \(sql.prefix(60))")
        }
        return Statement(handle: statement, database: self)
    }

    /// The first column of the first row of `sql`, as text.
    public func string(_ sql: String) throws -> String? {
        let statement = try prepare(sql)
        return try statement.step() ? statement.text(0) : nil
    }

    /// The first column of the first row of `sql`, as an integer (0 when there is no row).
    public func integer(_ sql: String) throws -> Int64 {
        let statement = try prepare(sql)
        return try statement.step() ? statement.integer(0) : 0
    }

    /// Runs `body` in one transaction, rolled back if it throws. `BEGIN IMMEDIATE` takes the
    /// write lock at once, so a busy database fails here rather than halfway through.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    func error(_ result: Int32, _ context: String) -> DatabaseError {
        DatabaseError(code: result, context: "\(path): \(context)", message: String(cString: sqlite3_errmsg(handle)))
    }
}

extension Database {
    /// Rows changed by the last INSERT/UPDATE/DELETE on this connection.
    public var changes: Int64 { sqlite3_changes64(handle) }

    /// Frees the connection's cached pages that no statement holds (its page cache grows to
    /// `cache_size` during a burst and would otherwise stay that size for good). Returns the
    /// bytes freed. The next statement reads what it needs back, from the OS's file cache.
    @discardableResult
    public func releaseMemory() -> Int32 { sqlite3_db_release_memory(handle) }
}
