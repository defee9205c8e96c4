import ChatTestSupport
import Foundation
import Glibc
import Testing

/// Issue 12's moderation gaps, against the real binary over real sockets: guests addressed by
/// their address name, address bans compared as addresses (and CIDR ranges), the password gate
/// hiding everything, seed words as chat on native connections, and byte limits.
@Suite final class ModerationSecurityTests {
    let directory: String

    /// Each test gets its own directory (the suite is made once per test); it goes with it.
    deinit { try? FileManager.default.removeItem(atPath: directory) }
    /// An operators file making `boss` (password very-long-password) an operator.
    let operators: String

    init() throws {
        directory = NSTemporaryDirectory() + "chatd-moderation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        operators = directory + "/operators"
        try "boss \(try Daemon.hashPassword("very-long-password"))\n".write(toFile: operators, atomically: true, encoding: .utf8)
    }

    /// A client from `source` that never chose a name, and the address name it is shown by.
    private func guest(_ daemon: Daemon, from source: String, host: String = "127.0.0.1") throws -> (TestClient, String) {
        let client = try TestClient(port: daemon.port, host: host, from: source)
        guard let welcome = client.waitFor({ $0.hasPrefix("*** welcome") }),
              let start = welcome.range(of: "chatd, "), let end = welcome.range(of: ": you are") else {
            throw TestError("no welcome line")
        }
        return (client, String(welcome[start.upperBound..<end.lowerBound]))
    }

    /// A logged-in operator named `boss`.
    private func boss(_ daemon: Daemon, host: String = "127.0.0.1") throws -> TestClient {
        let boss = try TestClient(port: daemon.port, host: host)
        boss.send("/login boss very-long-password")
        guard boss.waitFor({ $0.hasPrefix("OK login") }) != nil else { throw TestError("boss could not log in") }
        return boss
    }

    private func answer(_ client: TestClient) -> String? { client.waitFor { $0.hasPrefix("OK ") || $0.hasPrefix("ERROR") } }

    @Test func guestsWithoutANameAreAddressedByTheirAddressName() throws {
        let daemon = try Daemon(["--operators-file", operators])
        let boss = try boss(daemon)
        boss.send("/join #mine")
        #expect(answer(boss) == "OK join #mine 1 member")
        let (guest, name) = try guest(daemon, from: "127.0.0.2")
        #expect(name.hasPrefix("127.0.0.2:"))
        boss.send("/whois \(name)")
        #expect(answer(boss) == "OK whois \(name) from \(name) in #lobby")
        boss.send("/msg \(name) hello guest")
        #expect(answer(boss) == "OK msg \(name)")
        #expect(guest.waitFor { $0.hasPrefix("PM ") } == "PM <boss> hello guest")

        guest.send("/join #mine")
        #expect(answer(guest) == "OK join #mine 2 members")
        boss.send("/kick #mine \(name) out")
        #expect(answer(boss) == "OK kick \(name) removed from #mine")
        #expect(guest.waitFor { $0.contains("removed from #mine") } == "*** you were removed from #mine by boss (out)")
        guest.send("/join #mine")
        #expect(answer(guest) == "OK join #mine 2 members")
        boss.send("/ban #mine \(name)")
        #expect(answer(boss) == "OK ban \(name) removed from #mine")
        #expect(guest.waitFor { $0.contains("removed from #mine") } == "*** you were removed from #mine by boss (banned)")
        guest.send("/say #mine still here")
        #expect(answer(guest) == "ERROR NOT_IN_ROOM: you are not in #mine; /join it first")
        guest.send("/join #mine")
        #expect(answer(guest) == "ERROR BANNED_FROM_ROOM: you are banned from #mine")
        guest.send("/nick sneaky")
        #expect(answer(guest) == "OK nick sneaky")
        guest.send("/join #mine")
        #expect(answer(guest) == "ERROR BANNED_FROM_ROOM: you are banned from #mine", "the ban binds to the address, not the name")
        boss.send("/unban #mine \(name)")
        #expect(answer(boss) == "OK unban \(name) may join #mine again")
        guest.send("/join #mine")
        #expect(answer(guest) == "OK join #mine 2 members")

        let (heir, heirName) = try self.guest(daemon, from: "127.0.0.3")
        heir.send("/join #mine")
        #expect(answer(heir) == "OK join #mine 3 members")
        boss.send("/owner #mine \(heirName)")
        #expect(answer(boss) == "OK owner \(heirName) owns #mine")
        boss.send("/kill \(heirName) enough")
        #expect(answer(boss) == "OK kill \(heirName)")
        #expect(heir.waitFor { $0.hasPrefix("ERROR") } == "ERROR KILLED: disconnected by an operator: enough")
        #expect(heir.waitForClose())

        let (outcast, outcastName) = try self.guest(daemon, from: "127.0.0.4")
        boss.send("/ban \(outcastName) 10m")
        let banned = answer(boss) ?? ""
        #expect(banned.hasPrefix("OK ban \(outcastName) banned until ") && banned.hasSuffix("; 1 disconnected"), "\(banned)")
        #expect(outcast.waitFor { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR BANNED: ") == true)
        let again = try TestClient(port: daemon.port, from: "127.0.0.4")
        #expect(again.waitFor { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR BANNED: this address is banned") == true)
    }

    @Test func ipv6AddressBansMatchEverySpellingOfTheAddress() throws {
        let daemon = try Daemon(["--host", "::1", "--operators-file", operators])
        let boss = try boss(daemon, host: "::1")
        for spelling in ["0:0:0:0:0:0:0:1", "::0001", "0::1"] {
            let (victim, name) = try guest(daemon, from: "::1", host: "::1")
            #expect(name.hasPrefix("[::1]:"))
            boss.send("/ban \(spelling) 5m")
            let banned = answer(boss) ?? ""
            #expect(banned.hasPrefix("OK ban \(spelling) banned until ") && banned.hasSuffix("; 1 disconnected"), "\(banned)")
            #expect(victim.waitFor { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR BANNED: ") == true)
            #expect(victim.waitForClose())
            let refused = try TestClient(port: daemon.port, host: "::1")
            #expect(refused.waitFor { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR BANNED: this address is banned") == true, "\(spelling)")
            boss.send("/unban ::1")
            #expect(answer(boss) == "OK unban ::1 unbanned", "any spelling lifts it")
        }
        let welcome = try TestClient(port: daemon.port, host: "::1")
        #expect(welcome.waitFor { $0.hasPrefix("***") || $0.hasPrefix("ERROR") }?.hasPrefix("*** welcome") == true)
    }

    @Test func cidrAndMappedBansAreEnforcedPersistedAndLifted() throws {
        let db = directory + "/bans.db"
        let first = try Daemon(["--db", db, "--operators-file", operators])
        let boss = try boss(first)
        let (two, _) = try guest(first, from: "127.0.0.2")
        let (three, _) = try guest(first, from: "127.0.0.3")
        let (four, _) = try guest(first, from: "127.0.0.4")
        boss.send("/ban 127.0.0.2/31")
        #expect(answer(boss) == "OK ban 127.0.0.2/31 banned; 2 disconnected")
        #expect(two.waitForClose() && three.waitForClose())
        let refused = try TestClient(port: first.port, from: "127.0.0.3")
        #expect(refused.waitFor { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR BANNED: this address is banned") == true)
        boss.send("/ban ::ffff:127.0.0.4")
        #expect(answer(boss) == "OK ban ::ffff:127.0.0.4 banned; 1 disconnected", "an IPv4-mapped address is the IPv4 address")
        #expect(four.waitForClose())
        boss.send("/unban 127.0.0.4")
        #expect(answer(boss) == "OK unban 127.0.0.4 unbanned")
        boss.send("/ban 2001:db8::/32 2h")
        #expect(answer(boss)?.hasSuffix("; 0 disconnected") == true)
        boss.send("/ban 10.0.0.0/33")
        #expect(answer(boss)?.hasPrefix("ERROR USAGE: ") == true, "a prefix longer than the address is refused")
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)

        let second = try Daemon(["--db", db, "--operators-file", operators])
        let stillRefused = try TestClient(port: second.port, from: "127.0.0.2")
        #expect(stillRefused.waitFor { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR BANNED: this address is banned") == true, "the range survived the restart")
        let admin = try TestClient(port: second.port)
        admin.send("/login boss very-long-password")
        #expect(answer(admin) == "OK login logged in as boss")
        admin.send("/unban 127.0.0.2/31")
        #expect(answer(admin) == "OK unban 127.0.0.2/31 unbanned")
        admin.send("/unban 2001:db8::/32")
        #expect(answer(admin) == "OK unban 2001:db8::/32 unbanned")
        let (back, _) = try guest(second, from: "127.0.0.2")
        back.send("/ping back")
        #expect(answer(back) == "OK pong back")
    }

    @Test func beforeThePasswordAClientSeesNothingAndCountsForNothing() throws {
        let daemon = try Daemon(["--operators-file", operators], environment: ["CHATD_PASSWORD": "open-sesame-1"])
        let boss = try TestClient(port: daemon.port)
        boss.send("/pass open-sesame-1")
        #expect(answer(boss) == "OK pass accepted")
        boss.send("/login boss very-long-password")
        #expect(boss.waitFor { $0.hasPrefix("OK login") } != nil)
        let (outsider, name) = try guest(daemon, from: "127.0.0.2")
        #expect(outsider.waitFor { $0.hasPrefix("***") } == "*** this server needs a password: send /pass PASSWORD")
        boss.send("/announce maintenance at noon")
        #expect(answer(boss) == "OK announce sent to 1 clients")
        boss.send("/msg \(name) psst")
        #expect(answer(boss) == "ERROR NO_SUCH_NICK: \"\(name)\" is not online")
        outsider.send("/bogus")
        outsider.send("/whois boss")
        outsider.send("/ping gate")
        let seen = outsider.drain(seconds: 1)
        #expect(seen == ["ERROR PASSWORD_REQUIRED: this server needs a password: send /pass PASSWORD first",
                         "ERROR PASSWORD_REQUIRED: this server needs a password: send /pass PASSWORD first",
                         "OK pong gate"], "\(seen)")
    }

    @Test func seedWordsAreOrdinaryChatOnNativeConnections() throws {
        let daemon = try Daemon(["--max-line-rate", "0"])
        let alice = try daemon.client(named: "alice")
        let listener = try daemon.client(named: "listener")
        for line in ["LEAVE: brb", "JOIN:carol", "SAY:note to self: buy milk"] {
            alice.send(line)
            #expect(listener.waitFor { $0.hasPrefix("#lobby") || $0.hasPrefix("***") } == "#lobby <alice> \(line)")
        }
        alice.send("/ping still here")
        #expect(answer(alice) == "OK pong still here", "LEAVE: did not disconnect")
        alice.send("/whois alice")
        #expect(answer(alice)?.hasPrefix("OK whois alice from") == true, "JOIN: did not rename")
    }

    @Test func textLimitsCountBytes() throws {
        let daemon = try Daemon()
        let owner = try daemon.client(named: "owner")
        owner.send("/join #t")
        #expect(answer(owner) == "OK join #t 1 member")
        owner.send("/topic #t a" + String(repeating: "\u{301}", count: 1300))
        #expect(answer(owner) == "ERROR TOPIC_TOO_LONG: topics are limited to 300 bytes")
        owner.send("/topic #t " + String(repeating: "é", count: 150))
        #expect(answer(owner) == "OK topic #t set", "300 bytes is allowed")
        owner.send("/away " + String(repeating: "é", count: 151))
        #expect(answer(owner) == "ERROR TEXT_TOO_LONG: away messages are limited to 300 bytes")
        owner.send("/part #t " + String(repeating: "x", count: 301))
        #expect(answer(owner) == "ERROR TEXT_TOO_LONG: reasons are limited to 300 bytes")
    }
}
