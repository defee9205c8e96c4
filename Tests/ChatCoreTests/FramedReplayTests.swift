import Testing
@testable import ChatCore

/// `HistoryBook.frameRecent` keeps the last replay framed and slides it: whatever
/// it reuses, its bytes are always those of framing every line afresh.
@Suite struct FramedReplayTests {
    private func entry(_ room: String, _ text: String, at: Double = 1_700_000_000) -> HistoryEntry {
        HistoryEntry(room: room, at: at, kind: .chat, sender: "x", text: Array(text.utf8))
    }

    /// The replay as the ring's bodies and plain framing make it.
    private func expected(_ book: inout HistoryBook, _ key: String, _ count: Int, skipping: Int, _ prefix: String) -> [UInt8] {
        var out: [UInt8] = []
        book.forEachRecentBody(key: key, count: count, skippingNewest: skipping) { body in
            out.append(contentsOf: prefix.utf8)
            out.append(contentsOf: body)
            out.append(0x0A)
        }
        return out
    }

    private func framed(_ book: inout HistoryBook, _ key: String, _ count: Int, skipping: Int = 0, _ prefix: String) -> [UInt8] {
        // The replay's charge: each body plus the room name and the line overhead, as the walk
        // over the bodies (the other styles' path) counts it.
        let name = String(prefix.split(separator: " ").last ?? "")
        let overhead = name.utf8.count + Hub.renderedLineOverhead
        var walked = 0
        book.forEachRecentBodySize(key: key, count: count, skippingNewest: skipping) { walked += $0 + overhead }
        let (lines, cost, dropped) = book.frameRecent(key: key, count: count, skippingNewest: skipping, prefix: Array(prefix.utf8),
                                                      extraPerLine: overhead - prefix.utf8.count - 1)
        #expect(cost == walked, "the framed lengths give the walk's cost")
        #expect(dropped == 0)
        var out: [UInt8] = Array("before|".utf8)
        book.appendFramed(fromLine: 0, into: &out)
        let framed = Array(out.dropFirst(7))
        #expect(framed.split(separator: 0x0A, omittingEmptySubsequences: false).count - 1 == lines)
        return framed
    }

    /// The next joiner's replay keeps the lines the last one already framed; a room that was
    /// forgotten and comes back frames its new lines afresh (nothing of it is kept), even where
    /// the new ring's line numbers cover the kept replay's.
    @Test func theCacheIsUsedAndGoesWithItsRoom() {
        var book = HistoryBook(linesPerRoom: 8)
        for index in 0..<6 { book.record(entry("#a", "line \(index)", at: Double(index)), key: "#a") }
        _ = framed(&book, "#a", 4, "HISTORY #a ")
        #expect(book.framedLinesReused == 0)
        book.record(entry("#a", "line 6", at: 6), key: "#a")
        #expect(framed(&book, "#a", 4, "HISTORY #a ") == expected(&book, "#a", 4, skipping: 0, "HISTORY #a "))
        #expect(book.framedLinesReused == 3, "three of four lines were framed for the last joiner")
        book.forget("#a")
        book.load((0..<8).map { entry("#a", "new \($0)", at: Double($0)) }, key: "#a")
        let replay = framed(&book, "#a", 4, "HISTORY #a ")
        #expect(replay == expected(&book, "#a", 4, skipping: 0, "HISTORY #a "))
        #expect(!String(decoding: replay, as: UTF8.self).contains("line"), "the forgotten room's lines")
        #expect(book.framedLinesReused == 3, "a forgotten room's framed lines are gone with it")
    }

    /// A ring trimmed under memory pressure keeps its newest lines and their numbers: the next
    /// replay is still exactly the ring's lines.
    @Test func aTrimmedRingStillReplaysItsLines() {
        var book = HistoryBook(linesPerRoom: 8, memoryBudget: 1 << 20)
        book.linesKeptUnderPressure = 2
        for index in 0..<8 { book.record(entry("#a", "line \(index)", at: Double(index)), key: "#a") }
        _ = framed(&book, "#a", 6, "HISTORY #a ")
        book.memoryBudget = 0
        book.record(entry("#a", "line 8", at: 8), key: "#a")  // over budget: trimmed to 2 lines
        let replay = framed(&book, "#a", 6, "HISTORY #a ")
        #expect(replay == expected(&book, "#a", 6, skipping: 0, "HISTORY #a "))
        #expect(String(decoding: replay, as: UTF8.self).split(separator: "\n").count == 2)
    }

    /// Lines left out to fit an allowance are the oldest, and what is appended from there on is
    /// the newest lines' framing, the cost charged exactly those bytes.
    @Test func fittingLeavesOutTheOldestLines() {
        var book = HistoryBook(linesPerRoom: 8)
        for index in 0..<5 { book.record(entry("#a", "line \(index)", at: Double(index)), key: "#a") }
        let whole = book.frameRecent(key: "#a", count: 5, prefix: Array("P ".utf8), extraPerLine: 0)
        #expect(whole.lines == 5 && whole.dropped == 0)
        let fitted = book.frameRecent(key: "#a", count: 5, prefix: Array("P ".utf8), extraPerLine: 0, fitting: whole.cost - 1)
        #expect(fitted.dropped == 1)
        var out: [UInt8] = []
        book.appendFramed(fromLine: fitted.dropped, into: &out)
        #expect(out.count == fitted.cost)
        #expect(String(decoding: out, as: UTF8.self).hasPrefix("P ") && !String(decoding: out, as: UTF8.self).contains("line 0"))
        #expect(book.frameRecent(key: "#a", count: 5, prefix: Array("P ".utf8), extraPerLine: 0, fitting: 0).dropped == 5,
                "nothing fits: every line left out")
        #expect(book.frameRecent(key: "#b", count: 5, prefix: Array("P ".utf8), extraPerLine: 0) == (0, 0, 0), "no ring, nothing")
        var none: [UInt8] = []
        book.appendFramed(fromLine: 0, into: &none)
        #expect(none.isEmpty, "after a replay of nothing, nothing is appended")
    }

    @Test func slidingReplaysMatchFramingAfresh() {
        var book = HistoryBook(linesPerRoom: 8)
        var said = 0
        func say(_ room: String, _ lines: Int) {
            for _ in 0..<lines {
                said += 1
                // Repeated texts at one time give equal bodies: matching must not be fooled.
                book.record(entry(room, said % 3 == 0 ? "same" : "line \(said)"), key: room)
            }
        }
        #expect(framed(&book, "#a", 5, "HISTORY #a ").isEmpty, "no ring, nothing")
        for step in 0..<40 {
            say("#a", step % 4)
            if step % 7 == 3 { say("#b", 2) }
            let room = step % 5 == 4 ? "#b" : "#a"
            let count = [5, 5, 3, 8, 20][step % 5]
            let skipping = step % 6 == 5 ? 1 : 0
            let prefix = step % 9 == 8 ? "SERVER:history " : "HISTORY \(room) "
            let want = expected(&book, room, count, skipping: skipping, prefix)
            #expect(framed(&book, room, count, skipping: skipping, prefix) == want, "step \(step)")
            #expect(framed(&book, room, count, skipping: skipping, prefix) == want, "step \(step), again")
        }
        book.forget("#a")
        #expect(framed(&book, "#a", 5, "HISTORY #a ").isEmpty, "a forgotten room replays nothing")
    }
}
