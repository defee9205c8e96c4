import ChatTestSupport
import Foundation
import Testing

/// Accounts, the server password and moderation against the real binary: real Argon2id hashes
/// on the hashing thread, a real database file, real sockets and nc.
@Suite final class AccountIntegrationTests {
    let directory: String

    /// Each test gets its own directory (the suite is made once per test); it goes with it.
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    init() throws {
        directory = NSTemporaryDirectory() + "chatd-accounts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    @Test func theServerPasswordGateWorksFromNc() throws {
        let daemon = try Daemon(["--max-line-rate", "0"], environment: ["CHATD_PASSWORD": "open-sesame-1"])
        let insider = try TestClient(port: daemon.port)
        insider.send("/pass open-sesame-1")
        #expect(insider.waitFor { $0.hasPrefix("OK pass") } == "OK pass accepted")
        let nc = try Spawned("/usr/bin/nc", ["127.0.0.1", "\(daemon.port)"])
        nc.write("can anyone hear me\n/pass wrong-guess\n")
        #expect(nc.waitFor("ERROR BAD_PASSWORD: wrong password (1 of 3)"))
        #expect(nc.output.contains("ERROR PASSWORD_REQUIRED"))
        insider.send("/ping fence")
        #expect(insider.waitFor { $0.hasPrefix("OK pong") } != nil)
        #expect(!insider.drain(seconds: 0.3).contains { $0.contains("hear me") }, "nothing said before /pass is relayed")
        nc.write("/pass wrong-again\n")
        #expect(nc.waitFor("(2 of 3)", timeout: 10), "answered after the growing pause")
        nc.write("/pass wrong-thrice\n")
        #expect(nc.waitFor("wrong password, 3 times; closing the connection", timeout: 10))
        nc.closeInput()
        #expect(nc.waitForExit(timeout: 10) != nil, "the server closed the connection")
    }

    @Test func registerThenLoginFromANewConnectionAfterARestart() throws {
        let db = directory + "/accounts.db"
        let password = "tr0ub4dor-and-3"
        let first = try Daemon(["--db", db, "--log-level", "trace"])
        let alice = try first.client()
        alice.send("/register alice \(password)")
        #expect(alice.waitFor { $0.hasPrefix("OK register") || $0.hasPrefix("ERROR") } == "OK register alice registered; you are logged in")
        let guest = try first.client()
        guest.send("/nick alice")
        #expect(guest.waitFor { $0.hasPrefix("ERROR") } == "ERROR NICK_IN_USE: the name \"alice\" is taken")
        alice.close()
        #expect(guest.waitFor { $0.hasPrefix("*** alice quit") } != nil, "the server saw alice go")
        guest.send("/nick alice")
        #expect(guest.waitFor { $0.hasPrefix("ERROR") } == "ERROR NICK_REGISTERED: alice is a registered name: /login alice PASSWORD")
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)
        #expect(!first.log.contains(password), "the password never reaches the log")

        let second = try Daemon(["--db", db, "--log-level", "trace"])
        let back = try second.client()
        back.send("/login alice not-the-password")
        #expect(back.waitFor { $0.hasPrefix("ERROR") || $0.hasPrefix("OK") } == "ERROR BAD_LOGIN: wrong name or password")
        back.send("/login alice \(password)")
        #expect(back.waitFor { $0.hasPrefix("OK login") } == "OK login logged in as alice")
        back.send("/passwd \(password) n3w-and-better")
        #expect(back.waitFor { $0.hasPrefix("OK passwd") || $0.hasPrefix("ERROR") } == "OK passwd password changed")
        second.signal(SIGTERM)
        #expect(second.waitForExit() == 0)
        #expect(!second.log.contains(password) && !second.log.contains("n3w-and-better"))

        // The database holds hashes only.
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: db + suffix) else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains(password) && !text.contains("n3w-and-better"), "no plaintext password in \(db + suffix)")
            if suffix.isEmpty { #expect(text.contains("$argon2id$")) }
        }
    }

    @Test func messagesKeepFlowingWhileHashesRun() throws {
        let daemon = try Daemon(["--max-line-rate", "0"])
        let talker = try daemon.client(named: "talker")
        let listener = try daemon.client(named: "listener")
        let registrants = try (0..<4).map { _ in try daemon.client() }
        for (index, client) in registrants.enumerated() { client.send("/register user\(index) long-enough-password") }
        // Four Argon2id hashes run one after another on the hashing thread. Meanwhile the
        // talker and listener play ping-pong through the loop; count the round trips done
        // before the last registration is answered.
        var roundTrips = 0
        var lastAnswered = false
        let deadline = now() + 20
        while !lastAnswered && now() < deadline {
            talker.send("tick \(roundTrips)")
            guard listener.waitFor({ $0 == "#lobby <talker> tick \(roundTrips)" }) != nil else { break }
            roundTrips += 1
            lastAnswered = registrants[3].drain(seconds: 0.002).contains { $0.hasPrefix("OK register user3") }
        }
        if !lastAnswered { lastAnswered = registrants[3].waitFor { $0.hasPrefix("OK register user3") } != nil }
        #expect(lastAnswered)
        #expect(roundTrips >= 3, "messages were relayed while hashes ran (\(roundTrips) round trips)")
    }

    @Test func roomKeysKicksAndBansOverSockets() throws {
        let daemon = try Daemon()
        let owner = try daemon.client(named: "owner")
        let bob = try daemon.client(named: "bob")
        owner.send("/join #vault")
        owner.send("/key #vault hunter2")
        #expect(owner.waitFor { $0.hasPrefix("OK key") } == "OK key #vault key set")
        bob.send("/join #vault")
        #expect(bob.waitFor { $0.hasPrefix("ERROR") } == "ERROR BAD_KEY: #vault needs a key: /join #vault KEY")
        bob.send("/join #vault hunter2")
        #expect(bob.waitFor { $0.hasPrefix("OK join") } == "OK join #vault 2 members")
        owner.send("/kick #vault bob behave")
        #expect(bob.waitFor { $0.contains("removed from #vault") } == "*** you were removed from #vault by owner (behave)")
        owner.send("/ban #vault bob")
        #expect(owner.waitFor { $0.hasPrefix("OK ban") } == "OK ban bob banned from #vault")
        bob.send("/join #vault hunter2")
        #expect(bob.waitFor { $0.hasPrefix("ERROR") } == "ERROR BANNED_FROM_ROOM: you are banned from #vault")
        bob.send("/kick #vault owner")
        #expect(bob.waitFor { $0.hasPrefix("ERROR") } == "ERROR NOT_IN_ROOM: you are not in #vault; /join it first")
    }

    @Test func operatorCommandsAreRefusedToOthersAndWorkForOperators() throws {
        let operators = directory + "/operators"
        try "boss \(try Daemon.hashPassword("very-long-password"))\n".write(toFile: operators, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["--operators-file", operators])
        let user = try daemon.client(named: "user")
        for command in ["/announce hi", "/kill boss", "/ban 127.0.0.1", "/stats"] {
            user.send(command)
            #expect(user.waitFor { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR NOT_OPERATOR") == true, "\(command)")
        }
        let boss = try daemon.client()
        boss.send("/register boss very-long-password")
        #expect(boss.waitFor { $0.hasPrefix("ERROR") } == "ERROR ALREADY_REGISTERED: boss is reserved for a server operator")
        boss.send("/login boss very-long-password")
        #expect(boss.waitFor { $0.hasPrefix("OK login") } == "OK login logged in as boss")
        boss.send("/stats")
        let stats = try #require(boss.waitFor { $0.hasPrefix("OK stats") })
        #expect(stats.hasPrefix("OK stats 2 clients, 1 rooms, "), "\(stats)")
        boss.send("/announce maintenance at noon")
        #expect(user.waitFor { $0.hasPrefix("*** maintenance") } == "*** maintenance at noon")
        boss.send("/kill user enough")
        #expect(user.waitFor { $0.hasPrefix("ERROR KILLED") } == "ERROR KILLED: disconnected by an operator: enough")
        #expect(user.waitForClose())
    }
}
