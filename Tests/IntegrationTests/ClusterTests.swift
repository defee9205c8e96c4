import ChatTestSupport
import Foundation
import Testing

/// Several chatd nodes sharing one real `redis-server` (started on a free port, stopped by PID):
/// every cross-node behaviour, end to end over real sockets.
@Suite(.serialized) struct ClusterTests {
    /// A node of the cluster, once its link to Redis is up.
    static func node(_ redis: RedisServer, _ name: String, _ arguments: [String] = []) throws -> Daemon {
        let daemon = try Daemon(["--cluster", redis.url, "--node-name", name] + arguments)
        guard daemon.waitForLog("cluster: node \(name) joined") else { throw TestError("node \(name) did not join: \(daemon.log)") }
        return daemon
    }

    /// Waits until `client` sees `line` (exactly).
    static func sees(_ client: TestClient, _ line: String, timeout: Double = 10) -> Bool {
        client.waitFor(timeout: timeout) { $0 == line } != nil
    }

    /// Joins `room` and waits for the reply, so the node has subscribed before anyone speaks
    /// (a sync round trip: the reply comes after the join was handed to Redis).
    static func join(_ client: TestClient, _ room: String) throws {
        client.send("/join \(room)")
        guard client.waitFor({ $0.hasPrefix("OK join \(room)") }) != nil else { throw TestError("join \(room) failed") }
        client.send("/ping sync")
        guard client.waitFor({ $0 == "OK pong sync" }) != nil else { throw TestError("no pong") }
        usleep(200_000)  // the SUBSCRIBE reaches Redis on the next loop iteration
    }

    /// Two nodes `a` and `b`, alice on a and bob on b, both in `room`: most tests' start.
    static func aliceOnAAndBobOnB(_ redis: RedisServer, in room: String) throws -> (a: Daemon, b: Daemon, alice: TestClient, bob: TestClient) {
        let a = try node(redis, "a")
        let b = try node(redis, "b")
        let alice = try a.client(named: "alice")
        let bob = try b.client(named: "bob")
        try join(alice, room)
        try join(bob, room)
        return (a, b, alice, bob)
    }

    @Test func twoNodesShareARoomBothWays() throws {
        let redis = try RedisServer()
        let (_, _, alice, bob) = try Self.aliceOnAAndBobOnB(redis, in: "#dev")  // the clients keep their nodes
        #expect(Self.sees(alice, "*** bob joined #dev"))
        alice.send("hello from a")
        #expect(Self.sees(bob, "#dev <alice> hello from a"))
        bob.send("hello from b")
        #expect(Self.sees(alice, "#dev <bob> hello from b"))
        alice.send("/me waves")
        #expect(Self.sees(bob, "#dev * alice waves"))
        // alice created #dev on a and owns it on every node: she sets the topic, b shows it.
        alice.send("/topic #dev shipping friday")
        #expect(Self.sees(bob, "*** alice set the topic of #dev: shipping friday"))
        bob.send("/topic #dev")
        #expect(Self.sees(bob, "OK topic #dev: shipping friday"))
        bob.send("/nick robert")
        #expect(Self.sees(alice, "*** bob is now known as robert"))
        alice.send("/msg robert psst")
        #expect(Self.sees(alice, "OK msg robert"))
        #expect(Self.sees(bob, "PM <alice> psst"))
        bob.send("/part #dev gone fishing")
        #expect(Self.sees(alice, "*** robert left #dev (gone fishing)"))
        bob.send("/quit bye")
        #expect(Self.sees(alice, "*** robert quit (bye)"))
        alice.send("/msg robert hello?")
        #expect(alice.waitFor { $0.hasPrefix("ERROR") }?.contains("robert") == true)
    }

    @Test func perSenderOrderHoldsAcrossNodes() throws {
        let redis = try RedisServer()
        let a = try Self.node(redis, "a", ["--max-line-rate", "0"])
        let b = try Self.node(redis, "b")
        let sender = try a.client(named: "sender")
        let reader = try b.client(named: "reader")
        try Self.join(reader, "#order")
        try Self.join(sender, "#order")
        for index in 0..<200 { sender.send("line \(index)") }
        var seen: [Int] = []
        while seen.count < 200, let line = reader.readLine(timeout: 10) {
            if line.hasPrefix("#order <sender> line "), let value = Int(line.dropFirst("#order <sender> line ".count)) { seen.append(value) }
        }
        #expect(seen == Array(0..<200))
    }

    @Test func listingsAnswerForTheWholeCluster() throws {
        let redis = try RedisServer()
        let (_, _, alice, bob) = try Self.aliceOnAAndBobOnB(redis, in: "#dev")
        try Self.join(bob, "#ops")
        alice.send("/who #dev")
        let who = alice.drain(seconds: 1)
        #expect(who.contains("OK-who #dev alice") && who.contains("OK-who #dev bob") && who.contains("OK who #dev 2 members"))
        alice.send("/users")
        let users = alice.drain(seconds: 1)
        #expect(users.contains("OK-users bob") && users.contains("OK users 2 online"))
        alice.send("/whois bob")
        #expect(alice.waitFor { $0.hasPrefix("OK whois bob from 127.0.0.1:") && $0.hasSuffix("in #lobby #dev #ops (on node b)") } != nil)
        alice.send("/rooms")
        let rooms = alice.drain(seconds: 1)
        #expect(rooms.contains("OK-rooms #dev 2 members") && rooms.contains("OK-rooms #ops 1 member") && rooms.contains("OK rooms 3 rooms"))
    }

    @Test func aLateNodeLearnsWhoIsAlreadyThere() throws {
        let redis = try RedisServer()
        let a = try Self.node(redis, "a")
        let alice = try a.client(named: "alice")
        try Self.join(alice, "#dev")
        let b = try Self.node(redis, "b")
        let bob = try b.client(named: "bob")
        usleep(500_000)
        bob.send("/whois alice")
        #expect(bob.waitFor { $0.hasPrefix("OK whois alice") && $0.hasSuffix("(on node a)") } != nil)
        bob.send("/nick alice")
        #expect(bob.waitFor { $0.hasPrefix("ERROR NICK_IN_USE") } != nil)
    }

    @Test func threeNodesOneRoom() throws {
        let redis = try RedisServer()
        let nodes = try ["a", "b", "c"].map { try Self.node(redis, $0) }
        let clients = try nodes.enumerated().map { try $1.client(named: "user\($0)") }
        for client in clients { try Self.join(client, "#all") }
        clients[0].send("from the first node")
        #expect(Self.sees(clients[1], "#all <user0> from the first node"))
        #expect(Self.sees(clients[2], "#all <user0> from the first node"))
        clients[2].send("from the third node")
        #expect(Self.sees(clients[0], "#all <user2> from the third node"))
        #expect(Self.sees(clients[1], "#all <user2> from the third node"))
    }

    /// Two nodes, one name, sent at once: Redis's atomic claim lets exactly one keep it; the
    /// other is refused (or, if it renamed first, told and renamed back to its address).
    @Test func aNameRaceHasExactlyOneWinner() throws {
        let redis = try RedisServer()
        let a = try Self.node(redis, "a")
        let b = try Self.node(redis, "b")
        for round in 0..<5 {
            let first = try a.client()
            let second = try b.client()
            let name = "racer\(round)"
            first.send("/nick \(name)")
            second.send("/nick \(name)")
            let one = first.drain(seconds: 1.5), two = second.drain(seconds: 0.1)
            let losers = [one, two].filter { lines in lines.contains { $0.hasPrefix("ERROR NICK_IN_USE") } }
            #expect(losers.count == 1, "round \(round): \(one) / \(two)")
            let winnerNode = losers.first == one ? "b" : "a"
            #expect(try redis.cli(["HGET", "chatd:names", name]).trimmingCharacters(in: .whitespacesAndNewlines) == winnerNode)
            first.close()
            second.close()
        }
    }

    @Test func aKilledNodesMembersQuitWithNodeLostWithinTheLease() throws {
        let redis = try RedisServer()
        let (a, b, alice, bob) = try Self.aliceOnAAndBobOnB(redis, in: "#dev")
        #expect(Self.sees(alice, "*** bob joined #dev"))
        let killed = now()
        b.signal(SIGKILL)
        #expect(Self.sees(alice, "*** bob quit (node lost)", timeout: 12))
        let seconds = now() - killed
        #expect(seconds <= 10, "node lost after \(seconds) s")
        // Its name is free again, cluster-wide.
        let again = try a.client()
        again.send("/nick bob")
        #expect(Self.sees(again, "OK nick bob"))
        withExtendedLifetime(bob) {}  // connected until its node goes
    }

    /// A node stopped with SIGTERM says goodbye properly: its clients' quits reach the other
    /// nodes with their reason (not `(node lost)`), and its names are free at once.
    @Test func aStoppedNodesClientsQuitWithTheirReason() throws {
        let redis = try RedisServer()
        let (_, b, alice, bob) = try Self.aliceOnAAndBobOnB(redis, in: "#dev")
        #expect(Self.sees(alice, "*** bob joined #dev"))
        b.signal(SIGTERM)
        #expect(b.waitForExit() == 0)
        let quit = alice.waitFor(timeout: 5) { $0.hasPrefix("*** bob quit") }
        #expect(quit != nil && quit?.contains("node lost") == false, "\(String(describing: quit))")
        #expect(try redis.cli(["HGET", "chatd:names", "bob"]).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        withExtendedLifetime(bob) {}  // connected until its node goes
    }

    /// Redis frozen for 5 s under chat: both nodes go on serving their own clients, and every
    /// line said meanwhile reaches the other node once, late (the link held it), or is counted
    /// as not published: never twice.
    @Test func redisStoppedFiveSecondsUnderLoad() throws {
        let redis = try RedisServer()
        let a = try Self.node(redis, "a", ["--max-line-rate", "0"])
        let b = try Self.node(redis, "b")
        let sender = try a.client(named: "sender")
        let local = try a.client(named: "local")
        let reader = try b.client(named: "reader")
        for client in [sender, local, reader] { try Self.join(client, "#load") }
        redis.pause()
        let started = now()
        var sent = 0
        while now() - started < 5 {
            sender.send("tick \(sent)")
            sent += 1
            usleep(20_000)
        }
        // Local clients were served all along.
        #expect(Self.sees(local, "#load <sender> tick \(sent - 1)"))
        #expect(a.waitForLog("has not answered"))
        redis.resume()
        var counts: [Int: Int] = [:]
        let deadline = now() + 15
        while now() < deadline, counts.count < sent, let line = reader.readLine(timeout: 5) {
            if line.hasPrefix("#load <sender> tick "), let value = Int(line.dropFirst("#load <sender> tick ".count)) { counts[value, default: 0] += 1 }
        }
        #expect(counts.values.allSatisfy { $0 == 1 }, "no line twice")
        // The guarantee: every line delivered once, or counted as not published in the log line
        // that reports the link back (a stall that never dropped the link reports none).
        let reported = a.log.split(separator: "\n").compactMap { line -> Int? in
            guard let end = line.range(of: " lines and notices were not published") else { return nil }
            return Int(line[..<end.lowerBound].split(separator: " ").last ?? "")
        }.reduce(0, +)
        #expect(counts.count + reported == sent, "\(counts.count) of \(sent) delivered, \(reported) reported lost")
        #expect(a.waitForLog("answering again"))
        sender.send("after the stall")
        #expect(Self.sees(reader, "#load <sender> after the stall"))
    }

    /// Redis restarted (its data gone): each node logs the outage once, keeps serving, and when
    /// Redis is back subscribes and claims its names again.
    @Test func redisRestartedNodesReconnectAndReclaim() throws {
        let redis = try RedisServer()
        let (a, b, alice, bob) = try Self.aliceOnAAndBobOnB(redis, in: "#dev")
        try redis.restart()
        #expect(a.waitForLog("cluster: lost Redis"))
        #expect(a.waitForLog("reachable again", timeout: 15))
        #expect(b.waitForLog("reachable again", timeout: 15))
        #expect(a.log.components(separatedBy: "cluster: lost Redis").count - 1 == 1, "logged once")
        usleep(500_000)
        alice.send("back again")
        #expect(Self.sees(bob, "#dev <alice> back again"))
        #expect(try redis.cli(["HGET", "chatd:names", "alice"]).trimmingCharacters(in: .whitespacesAndNewlines) == "a")
        let carol = try b.client()
        carol.send("/nick alice")
        #expect(carol.waitFor { $0.hasPrefix("ERROR NICK_IN_USE") } != nil)
    }

    /// History lives in Redis streams: lines said on node A are replayed by node B, after
    /// both restarted, and neither node's own database is read for them.
    @Test func historyWrittenOnOneNodeIsReplayedOnAnotherAfterBothRestart() throws {
        let redis = try RedisServer()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatd-cluster-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let a = try Self.node(redis, "a", ["--db", directory + "/a.db"])
            let b = try Self.node(redis, "b", ["--db", directory + "/b.db"])
            let alice = try a.client(named: "alice")
            try Self.join(alice, "#logs")
            alice.send("good morning")
            alice.send("/me pours coffee")
            alice.send("/topic #logs release day")
            #expect(alice.waitFor { $0.hasPrefix("OK topic") } != nil)
            usleep(300_000)
            for node in [a, b] {
                node.signal(SIGTERM)
                #expect(node.waitForExit() == 0)
            }
        }
        let b = try Self.node(redis, "b", ["--db", directory + "/b.db"])
        let bob = try b.client(named: "bob")
        bob.send("/join #logs")
        #expect(bob.waitFor { $0.hasPrefix("HISTORY #logs") && $0.hasSuffix("*** alice set the topic: release day") } != nil)
        bob.send("/history #logs 10")
        let replayed = bob.drain(seconds: 1).filter { $0.hasPrefix("HISTORY #logs") }
        #expect(replayed.count == 3 && replayed[0].hasSuffix("<alice> good morning") && replayed[1].hasSuffix("* alice pours coffee"), "\(replayed)")
        #expect(try redis.cli(["GET", "chatd:history-lines:#logs"]).trimmingCharacters(in: .whitespacesAndNewlines) == "3", "written once, by the node it was said on")
    }

    /// A room's stream holds several lines per entry (one append per room per loop iteration)
    /// and is trimmed by lines, not entries: after 1,000 lines with `--history-max-lines 100`
    /// it holds at least the newest 100 and not many more (Redis trims whole macro nodes of at
    /// most 4 KiB), each entry's ID is the number of its last line, and a node that creates the
    /// room replays the newest lines in order.
    @Test func aFloodIsAppendedInFewEntriesAndTrimmedByLines() throws {
        let redis = try RedisServer()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatd-cluster-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let a = try Self.node(redis, "a", ["--db", directory + "/a.db", "--history-max-lines", "100", "--max-line-rate", "0"])
        let alice = try a.client(named: "alice")
        try Self.join(alice, "#flood")
        for start in stride(from: 0, to: 1_000, by: 50) {
            alice.send((start..<(start + 50)).map { "line \($0)" }.joined(separator: "\n"))
        }
        alice.send("/history #flood 1")
        let last = alice.waitFor(timeout: 10) { $0.hasSuffix("<alice> line 999") || $0.hasPrefix("ERROR") || $0.hasPrefix("OK history") }
        #expect(last?.hasSuffix("<alice> line 999") == true, "\(last ?? "nothing")")
        usleep(300_000)
        let entries = Int(try redis.cli(["XLEN", "chatd:history:#flood"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let counted = try redis.cli(["GET", "chatd:history-lines:#flood"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let stream = try redis.cli(["XRANGE", "chatd:history:#flood", "-", "+"]).split(separator: "\n")
        let stored = stream.filter { $0.contains("\t0\talice\tline ") }.count
        #expect(entries > 1 && entries < 100, "several lines per entry: \(entries) entries")
        #expect(counted == "1000", "the running line count: \(counted)")
        #expect(stored >= 100 && stored <= 300, "lines kept \(stored)")
        #expect(stream.last.map { $0.hasSuffix("line 999") } == true && stream.contains("1000-0"), "the last entry is line 1,000")
        _ = try redis.cli(["DEL", "chatd:history-lines:#flood"])
        alice.send("after the counter was lost")
        usleep(300_000)
        #expect(try redis.cli(["XREVRANGE", "chatd:history:#flood", "+", "-", "COUNT", "1"]).hasPrefix("1001-0"), "the count goes on from the stream")
        let b = try Self.node(redis, "b", ["--db", directory + "/b.db"])
        let bob = try b.client(named: "bob")
        bob.send("/join #flood")
        #expect(bob.waitFor { $0.hasPrefix("OK join") } != nil)
        _ = bob.drain(seconds: 0.5)  // the join's own replay
        bob.send("/history #flood 100")
        let replayed = bob.drain(seconds: 1).filter { $0.hasPrefix("HISTORY #flood") }
        #expect(replayed.count == 100 && replayed.first?.hasSuffix("<alice> line 901") == true
                && replayed.last?.hasSuffix("<alice> after the counter was lost") == true,
                "\(replayed.first ?? "none") … \(replayed.last ?? "none"), \(replayed.count)")
    }

    /// Accounts live in Redis: `/register` on one node is a `/login` on another, also on a
    /// node started afterwards; the password is hashed on the node that checks it.
    @Test func registerOnOneNodeLogInOnAnother() throws {
        let redis = try RedisServer()
        let a = try Self.node(redis, "a")
        let b = try Self.node(redis, "b")
        let alice = try a.client()
        alice.send("/register alice correct-horse-battery")
        #expect(alice.waitFor { $0.hasPrefix("OK register") || $0.hasPrefix("ERROR") } == "OK register alice registered; you are logged in")
        alice.send("/quit")
        usleep(300_000)
        let back = try b.client()
        back.send("/login alice wrong-password-here")
        #expect(back.waitFor { $0.hasPrefix("ERROR") } != nil)
        back.send("/login alice correct-horse-battery")
        #expect(back.waitFor { $0.hasPrefix("OK login") } == "OK login logged in as alice")
        back.send("/quit")
        usleep(300_000)
        let c = try Self.node(redis, "c")
        let guest = try c.client()
        guest.send("/nick alice")
        #expect(guest.waitFor { $0.hasPrefix("ERROR") }?.contains("registered") == true)
        #expect(try redis.cli(["HGET", "chatd:accounts", "alice"]).hasPrefix("alice\t$argon2id$"))
    }

    @Test func unreachableRedisAtStartIsOneLineAndExitOne() throws {
        let port = try RedisServer.freePort()
        let spawned = try Spawned(Daemon.binary, ["--port", "0", "--no-history", "--cluster", "redis://127.0.0.1:\(port)"])
        #expect(spawned.waitForExit() == 1)
        let lines = spawned.errorOutput.split(separator: "\n").filter { $0.hasPrefix("chatd:") }
        #expect(lines.count == 1 && lines[0].contains("unreachable"), "\(spawned.errorOutput)")
    }

    @Test func aBadClusterURLIsRefused() throws {
        let spawned = try Spawned(Daemon.binary, ["--port", "0", "--no-history", "--cluster", "http://example"])
        #expect(spawned.waitForExit() != 0)
        #expect(spawned.errorOutput.contains("--cluster must be redis://"))
    }
}

