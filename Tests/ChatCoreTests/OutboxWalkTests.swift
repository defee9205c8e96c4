import Testing
@testable import ChatCore

/// `Outbox.range(of:at:)`, the flush's closure-free walk, gives exactly `forEachRange`'s ranges.
@Suite struct OutboxWalkTests {
    private func walk(_ outbox: Outbox, _ client: ClientID) -> [[Int]] {
        var out: [[Int]] = []
        var position = Outbox.firstRange
        while let range = outbox.range(of: client, at: position) {
            out.append([range.offset, range.length])
            position = range.next
        }
        return out
    }

    private func closureRanges(_ outbox: Outbox, _ client: ClientID) -> [[Int]] {
        var out: [[Int]] = []
        outbox.forEachRange(of: client) { out.append([$0, $1]) }
        return out
    }

    @Test func theWalkMatchesForEachRange() {
        var outbox = Outbox()
        let (a, b, idle) = (ClientID(0), ClientID(1), ClientID(2))
        [a, b, idle].forEach { outbox.register($0) }
        #expect(walk(outbox, a).isEmpty)
        let one = outbox.publish { $0.append(contentsOf: "one\n".utf8) }
        outbox.deliver(one, to: a)
        #expect(walk(outbox, a) == [[0, 4]], "only the open range")
        let two = outbox.publish { $0.append(contentsOf: "two\n".utf8) }
        outbox.deliver(two, to: b)
        let three = outbox.publish { $0.append(contentsOf: "three\n".utf8) }
        outbox.deliver(three, to: a)
        outbox.deliver(three, to: b)
        let four = outbox.publish { $0.append(contentsOf: "four\n".utf8) }
        outbox.deliver(four, to: a)
        outbox.deliver(one, to: a)
        #expect(walk(outbox, a) == [[0, 4], [8, 11], [0, 4]], "chained ranges, merged neighbours, then the open range")
        #expect(walk(outbox, b) == [[4, 10]])
        for client in [a, b, idle, ClientID(9)] { #expect(walk(outbox, client) == closureRanges(outbox, client)) }
        outbox.reset()
        #expect(walk(outbox, a).isEmpty)
    }

    /// One-recipient messages go to the own arena: consecutive ones merge with each other, never
    /// with a shared one, and the shared messages around them stay one range for everyone else.
    @Test func ownMessagesMergeOnlyWithEachOther() {
        var outbox = Outbox()
        let (a, b) = (ClientID(0), ClientID(1))
        [a, b].forEach { outbox.register($0) }
        let shared1 = outbox.publish { $0.append(contentsOf: "s1\n".utf8) }
        outbox.deliver(shared1, to: a)
        outbox.deliver(shared1, to: b)
        let own1 = outbox.publishOwn { $0.append(contentsOf: "o1\n".utf8) }
        let own2 = outbox.publishOwn { $0.append(contentsOf: "o2\n".utf8) }
        #expect(own1.offset & Outbox.ownArenaBit != 0 && own1.offset & ~Outbox.ownArenaBit == 0)
        outbox.deliver(own1, to: a)
        outbox.deliver(own2, to: a)
        let shared2 = outbox.publish { $0.append(contentsOf: "s2\n".utf8) }
        outbox.deliver(shared2, to: a)
        outbox.deliver(shared2, to: b)
        let own = Int(Outbox.ownArenaBit)
        #expect(walk(outbox, a) == [[0, 3], [own, 6], [3, 3]])
        #expect(walk(outbox, b) == [[0, 6]], "the shared lines stay one range for b")
        #expect(String(decoding: outbox.bytes(for: a), as: UTF8.self) == "s1\no1\no2\ns2\n")
        #expect(outbox.renderedBytes == 12)
        outbox.reset()
        #expect(outbox.renderedBytes == 0)
        #expect(outbox.publishOwn { $0.append(0x0A) }.offset == Outbox.ownArenaBit, "the own arena is reused from offset zero")
    }
}
