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
        var out: [UInt8] = Array("before|".utf8)
        let lines = book.frameRecent(key: key, count: count, skippingNewest: skipping, prefix: Array(prefix.utf8))
        guard lines > 0 else { return [] }
        book.appendFramed(fromLine: 0, into: &out)
        let framed = Array(out.dropFirst(7))
        #expect(book.framedCost(extraPerLine: 0).cost == framed.count, "the cost is the framed bytes")
        #expect(book.framedCost(extraPerLine: 2).cost == framed.count + 2 * lines)
        return framed
    }

    /// Lines left out to fit an allowance are the oldest, and what is appended from there on is
    /// the newest lines' framing, the cost charged exactly those bytes.
    @Test func fittingLeavesOutTheOldestLines() {
        var book = HistoryBook(linesPerRoom: 8)
        for index in 0..<5 { book.record(entry("#a", "line \(index)", at: Double(index)), key: "#a") }
        #expect(book.frameRecent(key: "#a", count: 5, prefix: Array("P ".utf8)) == 5)
        let whole = book.framedCost(extraPerLine: 0).cost
        let (cost, dropped) = book.framedCost(extraPerLine: 0, fitting: whole - 1)
        #expect(dropped == 1)
        var out: [UInt8] = []
        book.appendFramed(fromLine: dropped, into: &out)
        #expect(out.count == cost)
        #expect(String(decoding: out, as: UTF8.self).hasPrefix("P ") && !String(decoding: out, as: UTF8.self).contains("line 0"))
        #expect(book.framedCost(extraPerLine: 0, fitting: 0).dropped == 5, "nothing fits: every line left out")
    }

    /// The next joiner's replay copies the lines the last one already framed; a room that was
    /// forgotten and comes back with the same lines frames them afresh (nothing of it is kept).
    @Test func theCacheIsUsedAndGoesWithItsRoom() {
        var book = HistoryBook(linesPerRoom: 8)
        for index in 0..<6 { book.record(entry("#a", "line \(index)", at: Double(index)), key: "#a") }
        _ = framed(&book, "#a", 4, "HISTORY #a ")
        #expect(book.framedLinesReused == 0)
        book.record(entry("#a", "line 6", at: 6), key: "#a")
        #expect(framed(&book, "#a", 4, "HISTORY #a ") == expected(&book, "#a", 4, skipping: 0, "HISTORY #a "))
        #expect(book.framedLinesReused == 3, "three of four lines were framed for the last joiner")
        book.forget("#a")
        book.load((3..<7).map { entry("#a", "line \($0)", at: Double($0)) }, key: "#a")
        _ = framed(&book, "#a", 4, "HISTORY #a ")
        #expect(book.framedLinesReused == 3, "a forgotten room's framed lines are gone with it")
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
