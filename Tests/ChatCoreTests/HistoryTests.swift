import Testing
@testable import ChatCore

@Suite struct HistoryCoreTests {
    private func lines(_ hub: Hub, _ slot: Int) -> [String] {
        let bytes = hub.outbox.bytes(for: ClientID(slot))
        hub.outbox.reset()
        return bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
    }

    private func say(_ hub: Hub, _ slot: Int, _ line: String) { hub.receive(Array(line.utf8), from: ClientID(slot)) }

    @Test func timestampsAreUTCISO8601() {
        #expect(Timestamp.iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.iso8601(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(Timestamp.iso8601(1_795_259_703.9) == "2026-11-21T11:15:03Z")
        #expect(Timestamp.iso8601(-1) == "1969-12-31T23:59:59Z")
    }

    private func line(_ room: String, _ at: Double, _ text: String = "") -> HistoryEntry {
        HistoryEntry(room: room, at: at, kind: .chat, sender: "x", text: Array(text.utf8))
    }

    @Test func aRingKeepsTheLatestLines() {
        var book = HistoryBook(linesPerRoom: 3)
        for index in 1...5 { book.record(line("#A", Double(index)), key: "#a") }
        #expect(book.recent("#a", count: 10).map(\.at) == [3, 4, 5])
        #expect(book.recent("#A", count: 2).map(\.at) == [4, 5])
    }

    @Test func overBudgetParkedRoomsGoOldestFirstOnceTheirLinesAreOnDisk() {
        let text = String(repeating: "x", count: 1000)
        let perLine = HistoryBook.cost(of: line("#a", 0, text))
        var book = HistoryBook(linesPerRoom: 10, memoryBudget: perLine * 4)
        book.record(line("#a", 1, text), key: "#a", batch: 1, durableBatch: 0)
        book.record(line("#b", 2, text), key: "#b", batch: 2, durableBatch: 0)
        book.park("#a", durableBatch: 0)
        book.park("#b", durableBatch: 0)
        for at in 5...7 { book.record(line("#c", Double(at), text), key: "#c", batch: 3, durableBatch: 0) }
        #expect(book.contains("#a") && book.contains("#b"), "not yet committed: kept although over budget")
        book.record(line("#c", 8, text), key: "#c", batch: 3, durableBatch: 1)
        #expect(!book.contains("#a") && book.contains("#b"), "only the ring whose batch is durable went")
        book.record(line("#c", 9, text), key: "#c", batch: 3, durableBatch: 2)
        #expect(!book.contains("#b") && book.contains("#c"))
        #expect(book.parkedCount == 0)
    }

    @Test func ringsReadFromDiskParkAsDurableAndLoadsStayWithinTheBudget() {
        let text = String(repeating: "z", count: 1000)
        let perLine = HistoryBook.cost(of: line("#a", 0, text))
        var book = HistoryBook(linesPerRoom: 50, memoryBudget: perLine * 10)
        book.linesKeptUnderPressure = 3
        book.load((1...8).map { line("#old", Double($0), text) }, key: "#old", durableBatch: 0)
        book.park("#old", durableBatch: 0)
        book.load((1...8).map { line("#new", Double($0), text) }, key: "#new", durableBatch: 0)
        #expect(!book.contains("#old"), "a ring read from disk is durable: it can go without any batch committing")
        book.load((1...40).map { line("#big", Double($0), text) }, key: "#big", durableBatch: 0)
        #expect(book.bytes <= perLine * 10 + perLine * 3, "a load over budget is trimmed")
    }

    @Test func aLiveRoomUnderPressureKeepsItsReplayLines() {
        let text = String(repeating: "y", count: 1000)
        let perLine = HistoryBook.cost(of: line("#a", 0, text))
        var book = HistoryBook(linesPerRoom: 50, memoryBudget: perLine * 5)
        book.linesKeptUnderPressure = 3
        for index in 1...40 { book.record(line("#live", Double(index), text), key: "#live") }
        let kept = book.recent("#live", count: 50).map(\.at)
        #expect(kept.count >= 3 && kept.last == 40, "the newest lines, at least the replay count")
        #expect(book.bytes <= perLine * 5, "within the budget")
    }

    @Test func anUnparkedRingIsKeptAndAForgottenOneIsGone() {
        var book = HistoryBook(linesPerRoom: 5)
        book.record(line("#a", 1), key: "#a")
        book.park("#a")
        let found = book.unpark("#a")
        #expect(found, "a quick rejoin finds the ring in memory")
        book.forget("#a")
        #expect(!book.contains("#a") && book.bytes == 0)
        let again = book.unpark("#a")
        #expect(!again)
    }

    /// The I/O layer bounds history in flight by these bytes, so they must add up and be
    /// handed over with the lines, leaving nothing counted behind.
    @Test func aHandOverCarriesTheBytesItsLinesHoldAndStartsAgainAtZero() {
        let hub = Hub()
        hub.history = HistoryBook(linesPerRoom: 50)
        hub.historyStartsPersisting()
        hub.connect(ClientID(0), address: "a")
        say(hub, 0, "/nick alice")
        for text in ["one", "three", String(repeating: "x", count: 1000)] { say(hub, 0, text) }
        // Each line as stored: time, TAB, kind, TAB, sender, TAB, text, LF (one run: one room).
        let stored = { (text: String) in "\(Int64(hub.now * 1000))\t0\talice\t\(text)\n".utf8.count }
        let pending = hub.pendingHistoryBytes
        #expect(pending >= stored("one") + stored("three") + stored(String(repeating: "x", count: 1000)) + RoomLines.fixedBytesInMemory)
        let effects = hub.takeEffects()
        #expect(effects.history?.lineCount == 3)
        #expect(effects.history?.runs.count == 1)
        #expect(effects.history?.bytes == pending)
        #expect(effects.history?.bytes == effects.history?.runs.reduce(0) { $0 + $1.bytesInMemory })
        #expect(hub.pendingHistoryBytes == 0)
        #expect(hub.takeEffects().history == nil)
        say(hub, 0, "again")
        #expect(hub.pendingHistoryBytes >= stored("again") + RoomLines.fixedBytesInMemory)
    }

    /// The store gets each room's lines as runs in the store's text, rooms interleaved into one
    /// run each, and a room change at its place: lines said after it start new runs, so a
    /// forget or protect never covers a line said after it.
    @Test func aHandOverHoldsOneRunPerRoomSplitWhereARoomChanges() {
        let hub = Hub()
        hub.history = HistoryBook(linesPerRoom: 50)
        hub.historyStartsPersisting()
        hub.connect(ClientID(0), address: "a")
        hub.connect(ClientID(1), address: "b")
        for line in ["/nick alice", "/join #a"] { say(hub, 0, line) }
        for line in ["/nick bob", "/join #b"] { say(hub, 1, line) }
        _ = hub.takeEffects()
        say(hub, 0, "a1")
        say(hub, 1, "b1")
        say(hub, 0, "a2")
        say(hub, 0, "/key #a sesame")
        say(hub, 0, "a3")
        say(hub, 1, "b2")
        guard let handOver = hub.takeEffects().history else {
            Issue.record("no hand-over")
            return
        }
        let texts = handOver.runs.map { run in "\(run.key): " + run.entries.map { String(decoding: $0.text, as: UTF8.self) }.joined(separator: " ") }
        #expect(texts == ["#a: a1 a2", "#b: b1", "#a: a3", "#b: b2"])
        #expect(handOver.roomChanges == [PendingRoomChange(change: .protect("#a"), afterRuns: 2)])
        #expect(handOver.lineCount == 5)
        #expect(handOver.runs.map(\.lines) == [2, 1, 1, 1])
    }

    /// A run is at most 64 lines (one Redis stream entry) and about 64 KiB.
    @Test func aFloodOfOneRoomIsHandedOverInBoundedRuns() {
        let hub = Hub()
        hub.history = HistoryBook(linesPerRoom: 50)
        hub.historyStartsPersisting()
        hub.connect(ClientID(0), address: "a")
        say(hub, 0, "/nick alice")
        _ = hub.takeEffects()
        for index in 0..<200 { say(hub, 0, "line \(index)") }
        for _ in 0..<70 { say(hub, 0, String(repeating: "y", count: 4_000)) }
        let runs = hub.takeEffects().history?.runs ?? []
        #expect(runs.reduce(0) { $0 + $1.lines } == 270)
        #expect(runs.allSatisfy { $0.lines <= RoomLines.maxLines && $0.body.count <= RoomLines.maxBytes })
        #expect(runs.prefix(4).map(\.lines) == [64, 64, 64, 8 + 16])
        #expect(runs.flatMap(\.entries).prefix(200).map { String(decoding: $0.text, as: UTF8.self) } == (0..<200).map { "line \($0)" })
    }

    @Test func aJoinReplaysAfterTheConfirmationAndLiveLinesFollow() {
        let hub = Hub()
        hub.history = HistoryBook(linesPerRoom: 50)
        hub.historyReplayLines = 2
        hub.historyStartsPersisting()
        hub.connect(ClientID(0), address: "a")
        say(hub, 0, "/nick alice")
        say(hub, 0, "/join #dev")
        hub.now = 1_795_259_703
        for text in ["one", "two", "three"] { say(hub, 0, text) }
        say(hub, 0, "/me waves")
        _ = lines(hub, 0)
        #expect(hub.roomHistory.pendingRuns.flatMap(\.entries).map { String(decoding: $0.text, as: UTF8.self) } == ["one", "two", "three", "waves"])
        hub.connect(ClientID(1), address: "b")
        _ = lines(hub, 1)
        say(hub, 1, "/join #dev")
        say(hub, 0, "live")
        #expect(lines(hub, 1) == [
            "OK join #dev 2 members",
            "HISTORY #dev 2026-11-21T11:15:03Z <alice> three",
            "HISTORY #dev 2026-11-21T11:15:03Z * alice waves",
            "#dev <alice> live",
        ])
        say(hub, 1, "/history 3")
        #expect(lines(hub, 1) == [
            "HISTORY #dev 2026-11-21T11:15:03Z <alice> three",
            "HISTORY #dev 2026-11-21T11:15:03Z * alice waves",
            "HISTORY #dev 2026-11-21T11:15:03Z <alice> live",
            "OK history #dev 3 lines",
        ])
        say(hub, 1, "/history #nowhere")
        #expect(lines(hub, 1) == ["ERROR NO_SUCH_ROOM: there is no room #nowhere"])
        say(hub, 1, "/history 0")
        #expect(lines(hub, 1) == ["ERROR USAGE: /history shows 1 to 50 lines"])
    }

    @Test func historyParsesItsFourForms() {
        #expect(CommandParser.parse(Array("/history".utf8)).command == .history(room: nil, count: nil))
        #expect(CommandParser.parse(Array("/history 5".utf8)).command == .history(room: nil, count: 5))
        #expect(CommandParser.parse(Array("/history #Dev".utf8)).command == .history(room: "#Dev", count: nil))
        #expect(CommandParser.parse(Array("/history #dev 7".utf8)).command == .history(room: "#dev", count: 7))
        #expect(CommandParser.parse(Array("/history many".utf8)).command == .invalid(.usage, "usage: /history [#room] [n]"))
    }

    @Test func withoutHistoryNothingIsKept() {
        let hub = Hub()
        hub.connect(ClientID(0), address: "a")
        say(hub, 0, "hello")
        say(hub, 0, "/history")
        #expect(lines(hub, 0).last == "ERROR HISTORY_OFF: this server keeps no history")
        #expect(hub.roomHistory.pendingRuns.isEmpty)
    }
}
