import Testing
@testable import ChatCore

@Suite struct ActivityListTests {
    @Test func touchingMovesAClientToTheBack() {
        var list = ActivityList()
        for slot in 0..<4 { list.touch(ClientID(slot), at: Double(slot)) }
        #expect(list.oldest?.client == ClientID(0))
        list.touch(ClientID(0), at: 10)
        #expect(list.oldest?.client == ClientID(1))
        #expect(list.oldest?.time == 1)
        list.touch(ClientID(0), at: 11)  // already last: only the time changes
        #expect(list.count == 4)
    }

    @Test func removingKeepsTheOrder() {
        var list = ActivityList()
        for slot in 0..<4 { list.touch(ClientID(slot), at: Double(slot)) }
        list.remove(ClientID(0))
        list.remove(ClientID(2))
        list.remove(ClientID(2))  // twice is harmless
        #expect(list.oldest?.client == ClientID(1))
        list.remove(ClientID(1))
        #expect(list.oldest?.client == ClientID(3))
        #expect(list.count == 1)
        list.remove(ClientID(3))
        #expect(list.oldest == nil)
        #expect(!list.contains(ClientID(3)))
    }

    @Test func drainingInOrderVisitsEveryoneOldestFirst() {
        var list = ActivityList()
        let order = [5, 2, 9, 0, 7]
        for (time, slot) in order.enumerated() { list.touch(ClientID(slot), at: Double(time)) }
        var seen: [Int] = []
        while let (client, _) = list.oldest {
            seen.append(Int(client.index))
            list.remove(client)
        }
        #expect(seen == order)
    }
}
