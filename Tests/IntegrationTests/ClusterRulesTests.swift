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
        let scratch = try Scratch()
        let redis = try RedisServer()
        let a = try ClusterTests.node(redis, "a", ["--db", scratch.path + "/a.db"])
        let b = try ClusterTests.node(redis, "b", ["--db", scratch.path + "/b.db"])
        let alice = try a.client(named: "alice")
        let bob = try b.client(named: "bob")
        try ClusterTests.join(alice, "#vault")
        alice.send("said before the key")
        alice.send("/key #vault sesame")
        #expect(answer(alice) == "OK key #vault key set")
        #expect(ruleStored(redis, "#vault", "key", "sesame"))
        #expect(try redis.cli(["GET", "chatd:history-lines:#vault"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1", "the line from before the key is in the stream")
        bob.send("/join #vault")
        #expect(answer(bob)?.hasPrefix("ERROR BAD_KEY") == true)
        bob.send("/join #vault wrong")
        #expect(answer(bob)?.hasPrefix("ERROR BAD_KEY") == true)
        bob.send("/join #vault sesame")
        #expect(answer(bob) == "OK join #vault 2 members")
        #expect(ClusterTests.sees(alice, "*** bob joined #vault"))
        bob.send("/key #vault mine")
        #expect(answer(bob)?.hasPrefix("ERROR NOT_OWNER") == true, "alice on a owns it, not bob who joined on b")
        // The room empties on both nodes: its rules go with it, as on one node. The last member
        // says a line and leaves in one write, so the line's append and the room's end come
        // out of one loop iteration: the stream must not outlive the rules.
        alice.send("/part #vault")
        #expect(answer(alice)?.hasPrefix("OK part") == true)
        usleep(200_000)
        bob.send("last words\n/part #vault")
        #expect(answer(bob)?.hasPrefix("OK part") == true)
        let deadline = now() + 10
        while now() < deadline, (try? redis.cli(["EXISTS", "chatd:rules:#vault"]))?.hasPrefix("0") != true { usleep(20_000) }
        #expect(try redis.cli(["EXISTS", "chatd:rules:#vault"]).hasPrefix("0"))
        usleep(200_000)
        #expect(try redis.cli(["EXISTS", "chatd:history:#vault", "chatd:history-lines:#vault"]).hasPrefix("0"), "a keyed room's history goes with its rules")
        usleep(100_000)
        bob.send("/join #vault")
        #expect(answer(bob) == "OK join #vault 1 member", "a new room, bob's now")
        bob.send("/history #vault")
        #expect(bob.waitFor { $0.hasPrefix("OK history") || $0.hasPrefix("HISTORY") } == "OK history #vault 0 lines")
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
        #expect(answer(alice) == "OK ban carol removed from #club")
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

    /// Connects from `source` until whether the connection is refused as banned (an
    /// `ERROR BANNED` line after the greeting) is `banned` (at most 10 s): for what another
    /// node learns through Redis a moment later.
    private func eventually(port: UInt16, from source: String, banned: Bool) -> Bool {
        let deadline = now() + 10
        while now() < deadline {
            if let client = try? TestClient(port: port, from: source) {
                let refused = client.drain(seconds: 0.5).contains { $0.hasPrefix("ERROR BANNED: this address is banned") }
                client.close()
                if refused == banned { return true }
            }
            usleep(100_000)
        }
        return false
    }

    /// A directory for one test's files (databases, the operators file), removed with it.
    private final class Scratch {
        let path = NSTemporaryDirectory() + "chatd-cluster-rules-\(UUID().uuidString)"
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test func aServerBanOnOneNodeDisconnectsAndRefusesOnAnother() throws {
        let scratch = try Scratch()
        let operators = scratch.path + "/operators"
        try "boss \(try Daemon.hashPassword("very-long-password"))\n".write(toFile: operators, atomically: true, encoding: .utf8)
        let redis = try RedisServer()
        let a = try ClusterTests.node(redis, "a", ["--operators-file", operators])
        let b = try ClusterTests.node(redis, "b", ["--operators-file", operators])
        let boss = try a.client()
        boss.send("/login boss very-long-password")
        #expect(answer(boss) == "OK login logged in as boss")
        let mallory = try b.client(named: "mallory")
        let guest = try b.client(from: "127.0.0.2")
        boss.send("/ban mallory")
        #expect(answer(boss) == "OK ban mallory banned; 0 disconnected")
        #expect(mallory.waitFor { $0.hasPrefix("ERROR") } == "ERROR BANNED: you are banned from this server")
        #expect(mallory.waitForClose())
        boss.send("/ban 127.0.0.2")
        #expect(answer(boss)?.hasPrefix("OK ban 127.0.0.2 banned") == true)
        #expect(guest.waitFor { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR BANNED") == true)
        #expect(guest.waitForClose())
        let again = try TestClient(port: b.port, from: "127.0.0.2")
        #expect(again.waitFor { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR BANNED: this address is banned") == true)
        let other = try b.client()
        other.send("/nick mallory")
        #expect(answer(other) == "ERROR BANNED: the name mallory is banned")
        // A node that joins later reads the bans from Redis (once its link is up and the
        // bans read: a connection before that is welcomed, so the test asks again).
        let c = try ClusterTests.node(redis, "c", ["--operators-file", operators])
        #expect(eventually(port: c.port, from: "127.0.0.2", banned: true))
        boss.send("/unban 127.0.0.2")
        #expect(answer(boss) == "OK unban 127.0.0.2 unbanned")
        #expect(eventually(port: b.port, from: "127.0.0.2", banned: false))
        #expect(try redis.cli(["HEXISTS", "chatd:bans", "mallory"]).hasPrefix("1"))
    }

    /// Accounts live in Redis only: `/register` on a, `/login` on b, and neither node's
    /// database has the account.
    @Test func anAccountLivesInRedisNotInTheNodesDatabases() throws {
        let scratch = try Scratch()
        let redis = try RedisServer()
        let a = try ClusterTests.node(redis, "a", ["--db", scratch.path + "/a.db"])
        let b = try ClusterTests.node(redis, "b", ["--db", scratch.path + "/b.db"])
        let alice = try a.client()
        alice.send("/register alice correct-horse-battery")
        #expect(answer(alice) == "OK register alice registered; you are logged in")
        #expect(try redis.cli(["HGET", "chatd:accounts", "alice"]).hasPrefix("alice\t$argon2id$"), "written before the reply")
        alice.send("/quit")
        usleep(300_000)
        let back = try b.client()
        back.send("/login alice correct-horse-battery")
        #expect(answer(back) == "OK login logged in as alice")
        back.send("/passwd correct-horse-battery staple-battery-horse")
        #expect(answer(back) == "OK passwd password changed")
        back.send("/quit")
        usleep(300_000)
        let fresh = try a.client()
        fresh.send("/login alice staple-battery-horse")
        #expect(answer(fresh) == "OK login logged in as alice", "the new password, set on b, works on a")
        for db in ["a.db", "b.db"] {
            let count = try Spawned("/usr/bin/sqlite3", [scratch.path + "/" + db, "SELECT count(*) FROM accounts"])
            #expect(count.waitForExit() == 0)
            #expect(count.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(db) has no account row")
        }
    }

    /// A room created while Redis is stopped (SIGSTOP) starts at once and the node goes on
    /// answering; its history, written on another node, follows when Redis answers again, to
    /// the joiner who waited for it, without the lines it saw live and without duplicates.
    @Test func aRoomsHistoryIsReadWithoutStoppingTheLoop() throws {
        let scratch = try Scratch()
        let redis = try RedisServer()
        defer { redis.resume() }
        let a = try ClusterTests.node(redis, "a", ["--db", scratch.path + "/a.db"])
        let b = try ClusterTests.node(redis, "b", ["--db", scratch.path + "/b.db"])
        let alice = try a.client(named: "alice")
        try ClusterTests.join(alice, "#logs")
        alice.send("line one")
        alice.send("line two")
        let deadline = now() + 10
        while now() < deadline, (try? redis.cli(["GET", "chatd:history-lines:#logs"]))?.trimmingCharacters(in: .whitespacesAndNewlines) != "2" { usleep(20_000) }
        #expect(try redis.cli(["GET", "chatd:history-lines:#logs"]).trimmingCharacters(in: .whitespacesAndNewlines) == "2", "both lines stored")
        let bob = try b.client(named: "bob")
        let carol = try b.client(named: "carol")
        redis.pause()
        bob.send("/join #logs")
        #expect(answer(bob)?.hasPrefix("OK join #logs") == true, "the room starts while Redis is stopped")
        bob.send("said while loading")
        carol.send("/ping alive")
        #expect(carol.waitFor(timeout: 5) { $0.hasPrefix("OK pong") } == "OK pong alive", "b answers other clients while the read waits")
        bob.send("/ping alive")
        #expect(bob.waitFor(timeout: 5) { $0.hasPrefix("OK pong") || $0.hasPrefix("HISTORY") } == "OK pong alive", "no replay before the lines are read")
        redis.resume()
        let replay = [bob.waitFor { $0.hasPrefix("HISTORY #logs") }] + bob.drain(seconds: 1).filter { $0.hasPrefix("HISTORY #logs") }
        #expect(replay.count == 2 && replay[0]?.hasSuffix("<alice> line one") == true && replay[1]?.hasSuffix("<alice> line two") == true,
                "the lines from before the join, once, in order; not bob's own line: \(replay)")
        bob.send("/history #logs 10")
        let ring = bob.drain(seconds: 1).filter { $0.hasPrefix("HISTORY #logs") }
        #expect(ring.count == 3 && ring[0].hasSuffix("<alice> line one") && ring[1].hasSuffix("<alice> line two") && ring[2].hasSuffix("<bob> said while loading"),
                "\(ring)")
    }
}
