import ChatTestSupport
import Foundation
import Testing

/// The bounds the README's "Staying up" section promises, tried the way an attacker or a
/// careless operator would, scaled to what a test machine does in seconds: the daemon stays up,
/// serves everyone else, and its memory stays under the documented bound (RSS from /proc).
@Suite(.serialized) struct BoundsTests {
    /// A temporary directory removed when the test ends.
    final class TemporaryDirectory {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "chatd-bounds-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    private func megabytes(_ bytes: Int?) -> Int { (bytes ?? 0) >> 20 }

    /// Many clients each ask for a room's whole history twenty times in one write and never
    /// read: one pass would render gigabytes (it crashed the daemon with a 32-bit arena offset).
    @Test func aHistoryStormIsCutByTheLimitsAndMemoryStaysBounded() throws {
        let directory = try TemporaryDirectory()
        let daemon = try Daemon(["--db", directory.path + "/chat.db", "--max-line-rate", "0",
                                 "--output-hard-limit", "2000000", "--output-soft-limit", "1000000",
                                 "--max-client-memory", "64000000"])
        let talker = try daemon.client(named: "talker")
        let filler = String(repeating: "h", count: 3900)
        for index in 0..<200 { talker.send("\(index) \(filler)") }
        talker.send("/ping filled")
        #expect(talker.waitFor { $0 == "OK pong filled" } != nil)
        let before = daemon.residentBytes ?? 0
        let storm = Array(String(repeating: "/history 200\n", count: 20).utf8)
        var attackers: [TestClient] = []
        for _ in 0..<150 {
            let attacker = try TestClient(port: daemon.port)
            attacker.sendRaw(storm)
            attackers.append(attacker)
        }
        var peak = 0
        for _ in 0..<20 {
            peak = max(peak, daemon.residentBytes ?? 0)
            usleep(100_000)
        }
        talker.send("/ping alive")
        #expect(talker.waitFor { $0 == "OK pong alive" } != nil, "everyone else is still served")
        #expect(daemon.waitForLog("slow consumer"), "the stormers were cut by their output limit")
        #expect(megabytes(peak - before) < 300, "RSS grew \(megabytes(peak - before)) MB; 150 x 20 x 800 KB would be 2.4 GB")
        attackers.forEach { $0.close() }
    }

    /// Flood-held input is kept as bytes: one 64 KiB write of tiny lines per client costs about
    /// 64 KiB each, not 36 times that as parsed lines.
    @Test func heldInputCostsItsWireSize() throws {
        let daemon = try Daemon([])
        _ = try daemon.client(named: "watcher")
        let before = daemon.residentBytes ?? 0
        let flood = Array(String(repeating: "a\n", count: 32_768).utf8)
        var flooders: [TestClient] = []
        for _ in 0..<300 {
            let flooder = try TestClient(port: daemon.port)
            flooder.sendRaw(flood)
            flooders.append(flooder)
        }
        // Once a later client's ping is answered, the daemon has read what came before it.
        let other = try daemon.client(named: "other")
        other.send("/ping ok")
        #expect(other.waitFor(timeout: 60) { $0 == "OK pong ok" } != nil)
        let grown = (daemon.residentBytes ?? 0) - before
        // 300 x 64 KiB = 19 MiB held; as parsed lines it was 300 x 2.3 MB.
        #expect(megabytes(grown) < 120, "RSS grew \(megabytes(grown)) MB for 19 MiB of held input")
        flooders.forEach { $0.close() }
    }

    /// Many clients that never read, and one talker within the limits: each client's limit
    /// holds, and now their sum does too — silent ones are cut (the heaviest first, by the
    /// code's order), a reading client misses nothing.
    @Test func silentReadersPastTheGlobalBudgetAreCut() throws {
        let daemon = try Daemon(["--max-line-rate", "0", "--output-hard-limit", "16000000",
                                 "--output-soft-limit", "16000000", "--max-client-memory", "24000000"])
        var silent: [TestClient] = []
        for _ in 0..<12 { silent.append(try daemon.client()) }
        let reader = try daemon.client(named: "reader")
        let talker = try daemon.client(named: "talker")
        let before = daemon.residentBytes ?? 0
        let filler = String(repeating: "s", count: 3900)
        let lines = 4000
        var received = 0
        var peak = 0
        for index in 0..<lines {
            talker.send("\(index) \(filler)")
            if index % 100 == 99 {
                while received < index - 50, let line = reader.readLine(timeout: 10) {
                    if line.hasPrefix("#lobby <talker> ") { received += 1 }
                }
                peak = max(peak, daemon.residentBytes ?? 0)
            }
        }
        while received < lines, let line = reader.readLine(timeout: 10) {
            if line.hasPrefix("#lobby <talker> ") { received += 1 }
        }
        #expect(received == lines, "the reading client received every line")
        #expect(daemon.waitForLog("over the budget"), "silent readers were cut for the global budget")
        // 12 silent readers with ~7 MB of backlog each would be 84 MB without the global budget.
        #expect(megabytes(peak - before) < 60, "RSS grew \(megabytes(peak - before)) MB")
        talker.send("/ping alive")
        #expect(talker.waitFor { $0 == "OK pong alive" } != nil)
        silent.forEach { $0.close() }
    }

    /// Clients cycling through fresh rooms with history: emptied rooms' lines leave memory once
    /// on disk, and come back from the database when the room is created again.
    @Test func roomChurnWithHistoryStaysWithinTheHistoryBudget() throws {
        let directory = try TemporaryDirectory()
        let daemon = try Daemon(["--db", directory.path + "/chat.db", "--max-line-rate", "0", "--history-memory", "2000000"])
        let before = daemon.residentBytes ?? 0
        let filler = String(repeating: "r", count: 3900)
        var churners: [TestClient] = []
        for index in 0..<20 { churners.append(try daemon.client(named: "churn\(index)")) }
        for round in 0..<50 {
            for (index, client) in churners.enumerated() {
                var batch = "/join #r\(index)x\(round)\n"
                for line in 0..<20 { batch += "\(line) \(filler)\n" }
                batch += "/part\n"
                client.sendRaw(Array(batch.utf8))
            }
            for client in churners { _ = client.waitFor { $0.hasPrefix("OK part") } }
        }
        let grown = (daemon.residentBytes ?? 0) - before
        // 1,000 rooms x 20 lines x 4 KB = 80 MB of lines if emptied rooms kept them.
        #expect(megabytes(grown) < 40, "RSS grew \(megabytes(grown)) MB")
        let back = churners[0]
        back.send("/join #r0x0")
        #expect(back.waitFor { $0.hasPrefix("OK join") } != nil)
        #expect(back.waitFor { $0.hasPrefix("HISTORY #r0x0 ") && $0.hasSuffix("19 \(filler)") } != nil,
                "a room evicted from memory replays its lines from the database")
    }

    /// Thousands of rooms: `/rooms` lists the first 500 in name order with the total, and
    /// clients asking for it over and over do not keep anyone else from being answered.
    @Test func manyRoomsAreListedBoundedWhileOthersAreServed() throws {
        let daemon = try Daemon(["--max-line-rate", "0", "--max-rooms", "100000"])
        var makers: [TestClient] = []
        for maker in 0..<100 {
            let client = try daemon.client()
            client.sendRaw(Array((0..<49).map { "/join #m\(maker)r\($0)\n" }.joined().utf8))
            makers.append(client)
        }
        for client in makers {
            var joined = 0
            while joined < 49, let line = client.readLine(timeout: 20) {
                if line.hasPrefix("OK join") { joined += 1 } else if line.hasPrefix("ERROR") { break }
            }
            #expect(joined == 49)
        }
        let askers = try (0..<5).map { _ in try daemon.client() }
        let pinger = try daemon.client(named: "pinger")
        for round in 0..<10 {
            for asker in askers { asker.send("/rooms") }
            pinger.send("/ping \(round)")
            #expect(pinger.waitFor(timeout: 20) { $0 == "OK pong \(round)" } != nil, "answered while others list rooms")
        }
        var listed: [String] = []
        var summary: String?
        while let line = askers[0].readLine(timeout: 20) {
            if line.hasPrefix("OK-rooms ") { listed.append(String(line.dropFirst(9).prefix { $0 != " " })) }
            if line.hasPrefix("OK rooms") {
                summary = line
                break
            }
        }
        #expect(summary == "OK rooms 4901 rooms (first 500 shown)")
        #expect(listed.count == 500 && listed == listed.sorted(), "the first 500 in name order")
    }

    @Test func maxRoomsCapsRoomsAndRoomsListsInNameOrder() throws {
        let daemon = try Daemon(["--max-rooms", "5", "--max-line-rate", "0"])
        let client = try daemon.client(named: "maker")
        for name in ["#d", "#b", "#c", "#a"] {
            client.send("/join \(name)")
            #expect(client.waitFor { $0.hasPrefix("OK join") || $0.hasPrefix("ERROR") }?.hasPrefix("OK join") == true)
        }
        client.send("/join #e")
        #expect(client.waitFor { $0.hasPrefix("OK join") || $0.hasPrefix("ERROR") }?.hasPrefix("ERROR TOO_MANY_ROOMS") == true)
        client.send("/join #lobby")
        #expect(client.waitFor { $0.hasPrefix("OK join") || $0.hasPrefix("ERROR") }?.hasPrefix("OK join") == true, "existing rooms stay joinable")
        client.send("/rooms")
        var listed: [String] = []
        while let line = client.readLine(), !line.hasPrefix("OK rooms") {
            if line.hasPrefix("OK-rooms ") { listed.append(String(line.dropFirst(9).prefix { $0 != " " })) }
        }
        #expect(listed == ["#a", "#b", "#c", "#d", "#lobby"])
    }

    /// Clients that quit or half-closed while output they never read is pending are closed
    /// after a bounded linger, not never.
    @Test func quitAndHalfClosedClientsWithUnreadOutputAreClosed() throws {
        let daemon = try Daemon(["--max-line-rate", "0", "--output-hard-limit", "200000000", "--output-soft-limit", "200000000"])
        let quitter = try daemon.client(named: "quitter")
        let halfCloser = try daemon.client(named: "halfcloser")
        let talker = try daemon.client(named: "talker")
        let filler = String(repeating: "z", count: 3900)
        // Enough to fill both silent clients' socket buffers and leave a backlog behind.
        for index in 0..<5000 { talker.send("\(index) \(filler)") }
        talker.send("/ping sent")
        #expect(talker.waitFor { $0 == "OK pong sent" } != nil)
        quitter.send("/quit")
        halfCloser.send("still here")
        shutdown(halfCloser.fd, Int32(SHUT_WR))
        let deadline = now() + 15
        while now() < deadline && daemon.log.components(separatedBy: "disconnected: closed after").count < 3 { usleep(100_000) }
        #expect(daemon.log.components(separatedBy: "disconnected: closed after").count == 3,
                "the /quit client and the half-closed one were both closed with output unread")
        talker.send("/ping alive")
        #expect(talker.waitFor { $0 == "OK pong alive" } != nil)
    }

    /// Lines already read but held back by flood control are relayed and stored on SIGTERM.
    @Test func sigtermRelaysAndStoresHeldLines() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path + "/chat.db"
        let daemon = try Daemon(["--db", db])
        let listener = try daemon.client(named: "listener")
        let flooder = try daemon.client(named: "flooder")
        flooder.sendRaw(Array((0..<100).map { "held \($0)\n" }.joined().utf8))
        #expect(listener.waitFor { $0 == "#lobby <flooder> held 19" } != nil, "the burst went through")
        daemon.signal(SIGTERM)
        var relayed = 20
        while let line = listener.readLine(timeout: 10), !line.hasPrefix("*** server shutting down") {
            if line == "#lobby <flooder> held \(relayed)" { relayed += 1 }
        }
        #expect(relayed == 100, "every held line was relayed, in order, before the goodbye")
        #expect(daemon.waitForExit() == 0)

        let again = try Daemon(["--db", db])
        let reader = try again.client(named: "reader")
        reader.send("/history 200")
        let stored = reader.waitFor { $0.hasPrefix("OK history") }
        #expect(stored == "OK history #lobby 100 lines", "every held line was stored")
    }

    @Test func aLastLineWithoutANewlineIsStillALine() throws {
        let daemon = try Daemon()
        let listener = try daemon.client(named: "listener")
        let nc = try Spawned("/bin/sh", ["-c", "printf 'first\\nsecond' | nc -N 127.0.0.1 \(daemon.port)"])
        #expect(listener.waitFor { $0.hasSuffix(" first") } != nil)
        #expect(listener.waitFor { $0.hasSuffix(" second") } != nil, "the unterminated last line was relayed")
        _ = nc.waitForExit()

        // A password command as the last line, then end of stream: answered before the close.
        let register = try Spawned("/bin/sh", ["-c", "printf '/nick carol\\n/register carol a-good-password' | nc -N 127.0.0.1 \(daemon.port)"])
        _ = register.waitForExit()
        #expect(register.output.contains("OK register"), "the last line waited for its hash: \(register.output)")

        let client = try Spawned(Daemon.binary, ["client", "127.0.0.1:\(daemon.port)"])
        #expect(client.waitFor("*** welcome"))
        client.write("/users")
        client.closeInput()
        #expect(client.waitForExit() == 0)
        #expect(client.output.contains("OK users"), "chatd client sent the last line and printed the reply")
    }
}

/// History never outlives the access rules that guarded it, and is labelled with the room's
/// current name.
@Suite struct ProtectedHistoryTests {
    @Test func aKeyedRoomsHistoryIsForgottenWhenItEmpties() throws {
        let directory = try BoundsTests.TemporaryDirectory()
        let daemon = try Daemon(["--db", directory.path + "/chat.db", "--max-line-rate", "0"])
        let alice = try daemon.client(named: "alice")
        alice.send("/join #secret")
        alice.send("/key #secret hunter2")
        #expect(alice.waitFor { $0.hasPrefix("OK key") } != nil)
        alice.send("the launch code is 0000")
        alice.send("/ban #secret mallory")
        #expect(alice.waitFor { $0.hasPrefix("OK ban") } != nil)
        alice.send("/part #secret")
        #expect(alice.waitFor { $0.hasPrefix("OK part") } != nil)
        let mallory = try daemon.client(named: "mallory")
        mallory.send("/join #secret")
        #expect(mallory.waitFor { $0.hasPrefix("OK join") || $0.hasPrefix("ERROR") }?.hasPrefix("OK join") == true)
        mallory.send("/history #secret 200")
        let answer = mallory.waitFor { $0.hasPrefix("OK history") || $0.hasPrefix("HISTORY") }
        #expect(answer == "OK history #secret 0 lines", "nothing said under the key is shown to a new owner")
    }

    @Test func aKeyedRoomsHistoryIsForgottenAcrossARestart() throws {
        let directory = try BoundsTests.TemporaryDirectory()
        let db = directory.path + "/chat.db"
        let first = try Daemon(["--db", db, "--max-line-rate", "0"])
        let alice = try first.client(named: "alice")
        alice.send("/join #secret")
        alice.send("/key #secret hunter2")
        #expect(alice.waitFor { $0.hasPrefix("OK key") } != nil)
        alice.send("keyed words")
        alice.send("/ping said")
        #expect(alice.waitFor { $0 == "OK pong said" } != nil)
        usleep(300_000)  // past the commit window: the line is on disk
        first.signal(SIGKILL)
        _ = first.waitForExit()

        let second = try Daemon(["--db", db])
        #expect(second.log.contains("1 protected rooms forgotten"))
        let mallory = try second.client(named: "mallory")
        mallory.send("/join #secret")
        #expect(mallory.waitFor { $0.hasPrefix("OK join") } != nil)
        mallory.send("/history #secret")
        #expect(mallory.waitFor { $0.hasPrefix("OK history") || $0.hasPrefix("HISTORY") } == "OK history #secret 0 lines")
    }

    @Test func aRoomWhoseKeyWasRemovedKeepsItsHistoryAcrossARestart() throws {
        let directory = try BoundsTests.TemporaryDirectory()
        let db = directory.path + "/chat.db"
        let first = try Daemon(["--db", db])
        let alice = try first.client(named: "alice")
        alice.send("/join #open")
        alice.send("/key #open temporary")
        alice.send("/key #open")
        #expect(alice.waitFor { $0 == "OK key #open key removed" } != nil)
        alice.send("public words")
        alice.send("/ping said")
        #expect(alice.waitFor { $0 == "OK pong said" } != nil)
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)
        let second = try Daemon(["--db", db])
        let bob = try second.client(named: "bob")
        bob.send("/join #open")
        #expect(bob.waitFor { $0.hasPrefix("HISTORY #open ") }?.hasSuffix("<alice> public words") == true)
    }

    /// One write that empties a keyed room, re-creates it and speaks: the forget applies to
    /// what came before it, never to the line after it.
    @Test func aForgetDoesNotTakeTheLinesSaidAfterIt() throws {
        let directory = try BoundsTests.TemporaryDirectory()
        let db = directory.path + "/chat.db"
        let first = try Daemon(["--db", db, "--max-line-rate", "0"])
        let alice = try first.client(named: "alice")
        alice.send("/join #s")
        alice.send("/key #s k")
        alice.send("secret words")
        #expect(alice.waitFor { $0.hasPrefix("OK key") } != nil)
        alice.sendRaw(Array("/part #s\n/join #s\nafter the forget\n/ping done\n".utf8))
        #expect(alice.waitFor { $0 == "OK pong done" } != nil)
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)
        let second = try Daemon(["--db", db])
        let bob = try second.client(named: "bob")
        bob.send("/join #s")
        bob.send("/ping replayed")
        var lines: [String] = []
        while let line = bob.readLine(), line != "OK pong replayed" { if line.hasPrefix("HISTORY") { lines.append(line) } }
        #expect(lines.count == 1 && lines.first?.hasSuffix("<alice> after the forget") == true, "the replay: \(lines)")
    }

    @Test func aRecreatedRoomReplaysUnderItsNewName() throws {
        let directory = try BoundsTests.TemporaryDirectory()
        let daemon = try Daemon(["--db", directory.path + "/chat.db"])
        let first = try daemon.client(named: "first")
        first.send("/join #Dev")
        first.send("mixed case")
        first.send("/part")
        #expect(first.waitFor { $0.hasPrefix("OK part") } != nil)
        let second = try daemon.client(named: "second")
        second.send("/join #DEV")
        #expect(second.waitFor { $0.hasPrefix("OK join") } != nil)
        let replayed = second.waitFor { $0.hasPrefix("HISTORY") }
        #expect(replayed?.hasPrefix("HISTORY #DEV ") == true, "labelled with the room as it is now: \(replayed ?? "nothing")")
        #expect(replayed?.hasSuffix("<first> mixed case") == true)
    }
}
