import ChatTestSupport
import Foundation
import Testing

/// Room rules, server bans, accounts and history across nodes sharing one real `redis-server`
/// (the set-up of `ClusterTests`): what one node decides holds on every other.
@Suite(.serialized) struct ClusterRulesTests {
    private func answer(_ client: TestClient) -> String? { client.waitFor { $0.hasPrefix("OK ") || $0.hasPrefix("ERROR") } }

    /// Waits until Redis holds `value` at `field` of a room's rules hash: the rule was written
    /// and, in the same script, announced to every node.
    private func ruleStored(_ redis: RedisServer, _ room: String, _ field: String, _ value: String) -> Bool {
        ruleStored(redis, room, field) { $0 == value }
    }

    private func ruleStored(_ redis: RedisServer, _ room: String, _ field: String, _ matches: (String) -> Bool) -> Bool {
        let deadline = now() + 10
        while now() < deadline {
            if let stored = try? redis.cli(["HGET", "chatd:rules:\(room)", field]), matches(stored.trimmingCharacters(in: .whitespacesAndNewlines)) {
                usleep(100_000)  // the announcement reaches the other nodes' loops
                return true
            }
            usleep(20_000)
        }
        return false
    }

    @Test func aKeyedRoomOnOneNodeNeedsItsKeyOnAnother() throws {
        let redis = try RedisServer()
        let a = try ClusterTests.node(redis, "a")
        let b = try ClusterTests.node(redis, "b")
        let alice = try a.client(named: "alice")
        let bob = try b.client(named: "bob")
        try ClusterTests.join(alice, "#vault")
        alice.send("/key #vault sesame")
        #expect(answer(alice) == "OK key #vault key set")
        #expect(ruleStored(redis, "#vault", "key", "sesame"))
        bob.send("/join #vault")
        #expect(answer(bob)?.hasPrefix("ERROR BAD_KEY") == true)
        bob.send("/join #vault wrong")
        #expect(answer(bob)?.hasPrefix("ERROR BAD_KEY") == true)
        bob.send("/join #vault sesame")
        #expect(answer(bob) == "OK join #vault 2 members")
        #expect(ClusterTests.sees(alice, "*** bob joined #vault"))
        bob.send("/key #vault mine")
        #expect(answer(bob)?.hasPrefix("ERROR NOT_OWNER") == true, "alice on a owns it, not bob who joined on b")
        // The room empties on both nodes: its rules go with it, as on one node.
        alice.send("/part #vault")
        bob.send("/part #vault")
        #expect(answer(alice)?.hasPrefix("OK part") == true && answer(bob)?.hasPrefix("OK part") == true)
        let deadline = now() + 10
        while now() < deadline, (try? redis.cli(["EXISTS", "chatd:rules:#vault"]))?.hasPrefix("0") != true { usleep(20_000) }
        #expect(try redis.cli(["EXISTS", "chatd:rules:#vault"]).hasPrefix("0"))
        usleep(100_000)
        bob.send("/join #vault")
        #expect(answer(bob) == "OK join #vault 1 member", "a new room, bob's now")
        bob.send("/key #vault mine")
        #expect(answer(bob) == "OK key #vault key set")
    }

    @Test func aRoomBanOnOneNodeHoldsOnAnotherAndRemovesTheMemberThere() throws {
        let redis = try RedisServer()
        let a = try ClusterTests.node(redis, "a")
        let b = try ClusterTests.node(redis, "b")
        let alice = try a.client(named: "alice")
        let carol = try b.client(named: "carol")
        let mallory = try b.client(named: "mallory")
        try ClusterTests.join(alice, "#club")
        try ClusterTests.join(carol, "#club")
        #expect(ClusterTests.sees(alice, "*** carol joined #club"))
        alice.send("/ban #club mallory")
        #expect(answer(alice) == "OK ban mallory banned from #club")
        #expect(ruleStored(redis, "#club", "ban:n:mallory", "1"))
        mallory.send("/join #club")
        #expect(answer(mallory)?.hasPrefix("ERROR BANNED_FROM_ROOM") == true)
        alice.send("/ban #club carol")
        #expect(ClusterTests.sees(carol, "*** you were removed from #club by alice (banned)"))
        #expect(ClusterTests.sees(alice, "*** carol was removed from #club by alice (banned)"))
        carol.send("/join #club")
        #expect(answer(carol)?.hasPrefix("ERROR BANNED_FROM_ROOM") == true)
        alice.send("/who #club")
        #expect(alice.waitFor { $0.hasPrefix("OK who #club") && $0.contains("member") } == "OK who #club 1 member")
    }

    @Test func anOwnerKicksAMemberOfAnotherNodeAndEveryoneSeesIt() throws {
        let redis = try RedisServer()
        let a = try ClusterTests.node(redis, "a")
        let b = try ClusterTests.node(redis, "b")
        let alice = try a.client(named: "alice")
        let dave = try a.client(named: "dave")
        let bob = try b.client(named: "bob")
        let erin = try b.client(named: "erin")
        for client in [alice, dave, bob, erin] { try ClusterTests.join(client, "#ops") }
        #expect(ClusterTests.sees(alice, "*** erin joined #ops"))
        alice.send("/kick #ops bob rude")
        #expect(answer(alice) == "OK kick bob removed from #ops")
        #expect(ClusterTests.sees(bob, "*** you were removed from #ops by alice (rude)"))
        for watcher in [alice, dave, erin] { #expect(ClusterTests.sees(watcher, "*** bob was removed from #ops by alice (rude)")) }
        for asker in [alice, erin] {
            asker.send("/who #ops")
            #expect(asker.waitFor { $0.hasPrefix("OK who #ops") && $0.contains("member") } == "OK who #ops 3 members", "bob is out on both nodes")
        }
    }

    @Test func ownershipMovesAndEndsOnEveryNode() throws {
        let redis = try RedisServer()
        let a = try ClusterTests.node(redis, "a")
        let b = try ClusterTests.node(redis, "b")
        let alice = try a.client(named: "alice")
        let dave = try a.client(named: "dave")
        let bob = try b.client(named: "bob")
        for client in [alice, dave, bob] { try ClusterTests.join(client, "#hand") }
        bob.send("/topic #hand mine now")
        #expect(answer(bob)?.hasPrefix("ERROR NOT_OWNER") == true)
        alice.send("/owner #hand bob")
        #expect(answer(alice) == "OK owner bob owns #hand")
        #expect(ClusterTests.sees(bob, "*** bob now owns #hand"))
        #expect(ruleStored(redis, "#hand", "owner") { $0.hasPrefix("c:b 127.0.0.1:") })
        bob.send("/key #hand k1")
        #expect(answer(bob) == "OK key #hand key set", "bob, on b, owns the room alice created on a")
        alice.send("/key #hand k2")
        #expect(answer(alice)?.hasPrefix("ERROR NOT_OWNER") == true)
        // The owner (a guest's connection) quits: nobody owns the room, on every node.
        bob.send("/quit")
        #expect(alice.waitFor { $0.hasPrefix("*** bob quit") } != nil)
        #expect(ruleStored(redis, "#hand", "owner") { $0.isEmpty }, "the owner field is gone")
        dave.send("/topic #hand free for all")
        #expect(answer(dave) == "OK topic #hand set", "an ownerless room: any member sets the topic")
    }
}
