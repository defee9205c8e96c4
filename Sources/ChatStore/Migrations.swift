/// The schema, as an append-only list of steps. `PRAGMA user_version` records how many have
/// run; each step runs in its own transaction together with the version bump, so a crash
/// mid-migration leaves the previous version intact. Never edit a released step: add one.
enum Migrations {
    static let steps: [String] = [
        // 1: room history, one row per room per commit (see HistoryChunk). `id` orders chunks
        // (SQLite's rowid, monotonic); the index serves "a room's latest chunks" at start and
        // per-room retention.
        """
        CREATE TABLE chunks(
            id INTEGER PRIMARY KEY,
            room_key TEXT NOT NULL,
            room TEXT NOT NULL,
            first_at REAL NOT NULL,
            last_at REAL NOT NULL,
            lines INTEGER NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX chunks_by_room ON chunks(room_key, id);
        """,
        // 2: accounts (Argon2id hash strings only, never passwords) and server-wide bans.
        """
        CREATE TABLE accounts(
            name_key TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            hash TEXT NOT NULL,
            updated INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE bans(
            target TEXT PRIMARY KEY,
            is_address INTEGER NOT NULL,
            until REAL,
            set_by TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
        // 3: rooms that have (or had) a key or bans: their history is deleted when they empty
        // and at start, so it never outlives the access rules that guarded it.
        """
        CREATE TABLE protected_rooms(room_key TEXT PRIMARY KEY) WITHOUT ROWID;
        """,
    ]

    /// Brings `database` up to the latest version. A database written by a newer chatd is
    /// refused rather than misread.
    static func apply(to database: Database) throws {
        let version = Int(try database.integer("PRAGMA user_version"))
        if version > steps.count {
            throw DatabaseError(code: 1, context: "open \(database.path)",
                                message: "schema version \(version) is newer than this chatd understands (\(steps.count))")
        }
        for (index, step) in steps.enumerated().dropFirst(version) {
            try database.transaction {
                try database.execute(step)
                try database.execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }
}
