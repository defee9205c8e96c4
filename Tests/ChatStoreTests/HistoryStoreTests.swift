import ChatCore
import ChatStore
import Glibc
import Foundation
import Testing

/// The store against a real SQLite file in a temporary directory.
@Suite final class HistoryStoreTests {
    let directory: String

    /// Each test gets its own directory (the suite is made once per test); it goes with it.
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    init() throws {
        var template = Array("/tmp/chatd-store-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DatabaseError(code: 0, context: "mkdtemp", message: "failed") }
        directory = String(cString: made)
    }

    func entry(_ room: String, _ text: String, at: Double = 1_000, kind: HistoryEntry.Kind = .chat) -> HistoryEntry {
        HistoryEntry(room: room, at: at, kind: kind, sender: "alice", text: Array(text.utf8))
    }

    @Test func linesComeBackPerRoomInOrderAfterReopening() throws {
        let path = directory + "/h.db"
        do {
            let store = try HistoryStore(path: path)
            try store.append((1...30).map { entry("#Dev", "line \($0)", at: Double($0)) })
            try store.append([entry("#other", "elsewhere"), entry("#dev", "héllo ✓", kind: .action)])
        }
        let store = try HistoryStore(path: path)
        let recent = try store.recent(roomKey: NameRules.fold("#DEV"), limit: 5)
        #expect(recent.map { String(decoding: $0.text, as: UTF8.self) } == ["line 27", "line 28", "line 29", "line 30", "héllo ✓"])
        #expect(recent.last?.kind == .action)
        #expect(recent.first?.at == 27)
        #expect(Set(try store.roomKeys()) == ["#dev", "#other"])
    }

    /// The writer hands several hand-overs at once, rooms interleaved within and across them:
    /// one row per room, every room's lines in order, whichever hand-over they came in.
    @Test func handOversInterleavingRoomsMakeOneOrderedRowPerRoom() throws {
        let store = try HistoryStore(path: directory + "/s.db")
        let first = [entry("#a", "a1", at: 1), entry("#b", "b1", at: 2), entry("#a", "a2", at: 3)]
        let second = [entry("#a", "a3", at: 4), entry("#c", "c1", at: 5), entry("#b", "b2", at: 6)]
        let runs = (RoomLines.runs(of: first), RoomLines.runs(of: second))
        #expect(try store.append([runs.0[...], runs.1[1...], runs.1[..<1]]) == ["#a", "#b", "#c"])
        #expect(try store.database.string("SELECT COUNT(*) FROM chunks") == "3")
        let texts = { (room: String) in try store.recent(roomKey: room, limit: 10).map { String(decoding: $0.text, as: UTF8.self) } }
        #expect(try texts("#a") == ["a1", "a2", "a3"])
        #expect(try texts("#b") == ["b1", "b2"])
        #expect(try texts("#c") == ["c1"])
        #expect(try store.recent(roomKey: "#a", limit: 10).map(\.at) == [1, 3, 4])
    }

    /// A flood's commit is stored in rows of at most 96 KiB: a room's runs (at most 64 lines
    /// each) are joined until the next would pass it, its lines all there and in order.
    @Test func aFloodsCommitIsStoredInBoundedRowsInOrder() throws {
        let store = try HistoryStore(path: directory + "/f.db")
        let filler = String(repeating: "x", count: 100)
        let runs = RoomLines.runs(of: (0..<10_000).map { entry("#flood", "\($0) \(filler)", at: Double($0)) })
        #expect(runs.count == 10_000 / 64 + 1 && runs.allSatisfy { $0.lines <= RoomLines.maxLines && $0.body.count <= RoomLines.maxBytes })
        try store.append([runs[..<60], runs[60...]])
        let rows = try store.database.prepare("SELECT LENGTH(CAST(body AS BLOB)) FROM chunks ORDER BY id")
        var sizes: [Int] = []
        while try rows.step() { sizes.append(Int(rows.integer(0))) }
        #expect(sizes.count >= 12 && sizes.count <= 14, "\(sizes.count) rows for ~1.2 MB")
        #expect(sizes.allSatisfy { $0 <= 96 * 1024 })
        #expect(sizes.dropLast().allSatisfy { $0 > 88 * 1024 }, "runs joined into full rows: \(sizes)")
        #expect(try store.database.string("SELECT SUM(lines) FROM chunks") == "10000")
        let recent = try store.recent(roomKey: "#flood", limit: 10_000)
        #expect(recent.count == 10_000 && recent.map(\.at) == (0..<10_000).map(Double.init))
    }

    @Test func schemaVersionIsRecordedAndMigrationIsIdempotent() throws {
        let path = directory + "/v.db"
        let first = try HistoryStore(path: path)
        let version = try first.database.integer("PRAGMA user_version")
        #expect(version >= 1)
        let second = try HistoryStore(path: path)
        #expect(try second.database.integer("PRAGMA user_version") == version)
        #expect(try second.database.string("PRAGMA journal_mode") == "wal")
    }

    @Test func aNewerSchemaIsRefused() throws {
        let path = directory + "/new.db"
        do {
            let store = try HistoryStore(path: path)
            try store.database.execute("PRAGMA user_version = 999")
        }
        #expect(throws: DatabaseError.self) { try HistoryStore(path: path) }
    }

    @Test func aFileThatIsNotADatabaseIsAClearError() throws {
        let path = directory + "/junk.db"
        let file = fopen(path, "w")
        fputs(String(repeating: "this is not sqlite\n", count: 500), file)
        fclose(file)
        do {
            _ = try HistoryStore(path: path)
            Issue.record("a junk file opened as a database")
        } catch let error as DatabaseError {
            #expect(error.description.contains("not a database"))
            #expect(error.description.contains(path))
        }
    }

    @Test func retentionKeepsTheLatestLinesPerRoomAndDropsOldOnes() throws {
        let store = try HistoryStore(path: directory + "/r.db")
        try store.append((1...50).map { entry("#a", "a\($0)", at: Double($0)) })  // one 50-line chunk
        try store.append((51...60).map { entry("#b", "b\($0)", at: Double($0)) })
        // One commit per line, as at human chat rates: one chunk per line.
        for time in 61...70 { try store.append([entry("#a", "a\(time)", at: Double(time))]) }
        #expect(try store.lineCount() == 70)
        // A cap of 15 needs 5 lines of the 50-line chunk, so it stays; a cap of 5 drops it and 61-65.
        #expect(try store.prune(roomKey: "#a", keep: 15) == 0)
        #expect(try store.prune(roomKey: "#a", keep: 5) == 6)
        #expect(try store.recent(roomKey: "#a", limit: 100).map(\.at) == (66...70).map(Double.init))
        #expect(try store.prune(roomKey: "#b", keep: 20) == 0)
        // Age: chunks whose newest line is before t=68 go, at most 2 per pass.
        #expect(try store.prune(olderThan: 68, limit: 2) == 2)
        while try store.prune(olderThan: 68, limit: 2) > 0 {}
        #expect(try store.recent(roomKey: "#b", limit: 100).isEmpty)
        #expect(try store.recent(roomKey: "#a", limit: 100).map(\.at) == [68, 69, 70])
        #expect(try store.lineCount() == 3)
    }
}

@Suite struct HistoryChunkTests {
    @Test func linesSurviveEncodingWithTabsUnicodeAndKinds() {
        let entries = [
            HistoryEntry(room: "#r", at: 1_763_700_000.123, kind: .chat, sender: "alice", text: Array("a\tb ✓".utf8)),
            HistoryEntry(room: "#r", at: 1_763_700_001, kind: .topic, sender: "127.0.0.1:5000", text: []),
        ]
        #expect(HistoryChunk.decode(HistoryChunk.encode(entries), room: "#r") == entries)
    }

    @Test func aHandEditedBodyIsSanitisedAndBadLinesSkipped() {
        let body = Array("12\t0\tbob\thi \u{1B}[2J\u{85}there\nnot a line\n13\t9\tbob\tbad kind\n".utf8)
        let entries = HistoryChunk.decode(body, room: "#r")
        #expect(entries.count == 1)
        #expect(entries.first?.text == Array("hi [2Jthere".utf8))
    }
}

/// Rows a damaged or hand-edited database can hold: numbers no date means.
@Suite struct DamagedRowTests {
    @Test func banEndsThatAreNoDateAreClampedAndReported() throws {
        var template = Array("/tmp/chatd-store-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DatabaseError(code: 0, context: "mkdtemp", message: "failed") }
        let directory = String(cString: made)
        defer {
            for file in ["b.db", "b.db-wal", "b.db-shm"] { unlink(directory + "/" + file) }
            rmdir(directory)
        }
        let store = try HistoryStore(path: directory + "/b.db")
        try store.database.execute("""
            INSERT INTO bans(target, is_address, until, set_by) VALUES
              ('far', 0, 1e300, 'op'), ('infinite', 0, 1e999, 'op'), ('ancient', 0, -1e300, 'op'), ('text', 0, 'soon', 'op'),
              ('fine', 0, 1795256103.5, 'op'), ('forever', 0, NULL, 'op'), ('127.0.0.2', 1, -1e999, 'op')
            """)
        var reports: [String] = []
        let bans = try AccountStore(database: store.database).loadBans { reports.append($0) }
        #expect(bans["far"]?.until == .some(nil), "later than 9999: until lifted")
        #expect(bans["infinite"]?.until == .some(nil))
        #expect(bans["text"]?.until == .some(nil), "not a number: when in doubt the ban stays")
        #expect(bans["ancient"]?.until == Timestamp.earliest, "before year 0: expired")
        #expect(bans["127.0.0.2"]?.until == Timestamp.earliest)
        #expect(bans["fine"]?.until == 1_795_256_103.5)
        #expect(bans["forever"]?.until == .some(nil))
        #expect(reports.count == 5, "\(reports)")
        #expect(reports.contains("the ban on far ends at 1e+300, not a date in years 0000-9999; kept until lifted"), "\(reports)")
    }

    @Test func historyLinesAtTimesNoDateMeansAreSkipped() {
        let body = Array("""
            9223372036854775807\t0\talice\tfar future
            -9223372036854775808\t0\talice\tfar past
            253402300799000\t0\talice\tlast second of 9999
            99999999999999999999999\t0\talice\tnot an Int64
            1795256103000\t0\talice\tordinary

            """.utf8)
        let lines = HistoryChunk.decode(body, room: "#r").map { String(decoding: $0.text, as: UTF8.self) }
        #expect(lines == ["last second of 9999", "ordinary"])
    }
}
