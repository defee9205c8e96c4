import ChatTestSupport
import Foundation
import Testing

/// IRC users and chatd accounts: SASL PLAIN against an account registered over nc (checked
/// off the loop like /login), and history replay marked as history.
@Suite struct IRCAccountTests {
    private func sasl(_ irc: IRCTestClient, _ account: String, _ password: String) {
        irc.send("CAP LS 302")
        irc.send("CAP REQ :sasl")
        irc.send("NICK \(account)")
        irc.send("USER \(account) 0 * :\(account)")
        irc.send("AUTHENTICATE PLAIN")
        _ = irc.expect("AUTHENTICATE +")
        let payload = Data("\0\(account)\0\(password)".utf8).base64EncodedString()
        irc.send("AUTHENTICATE \(payload)")
        irc.send("CAP END")
    }

    @Test func saslLogsInToAnAccountRegisteredOverNc() throws {
        let daemon = try Daemon(["--max-line-rate", "0"])
        let nc = try daemon.client()
        nc.send("/register alice long-enough-password")
        #expect(nc.waitFor { $0.hasPrefix("OK register") || $0.hasPrefix("ERROR") } == "OK register alice registered; you are logged in")
        nc.send("/logout")
        #expect(nc.waitFor { $0.hasPrefix("OK logout") } != nil)

        let squatter = try IRCTestClient(port: daemon.port)
        squatter.send("NICK alice")
        squatter.send("USER alice 0 * :Alice")
        #expect(squatter.readLine() == ":chatd 433 * alice :Nickname is registered; log in with SASL", "a registered name needs SASL")
        squatter.client.close()

        let wrong = try IRCTestClient(port: daemon.port)
        sasl(wrong, "alice", "not-the-password")
        #expect(wrong.expect(" 904 ") == ":chatd 904 alice :SASL authentication failed")

        let irc = try IRCTestClient(port: daemon.port)
        sasl(irc, "alice", "long-enough-password")
        #expect(irc.expect(" 900 ") == ":chatd 900 alice alice!alice@chatd alice :You are now logged in as alice")
        #expect(irc.readLine() == ":chatd 903 alice :SASL authentication successful")
        #expect(irc.readLine() == ":chatd 001 alice :Welcome to the chatd IRC network, alice")
        irc.send("WHOIS alice")
        #expect(irc.expect(" 330 ") == ":chatd 330 alice alice alice :is logged in as")
    }

    @Test func historyIsReplayedAsHistory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatd-irc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try Daemon(["--db", directory.appendingPathComponent("h.db").path])
        let nc = try daemon.client(named: "talker")
        nc.send("/join #dev")
        #expect(nc.waitFor { $0.hasPrefix("OK join") } != nil)
        nc.send("earlier words")
        nc.send("/me nods")
        #expect(nc.waitFor { $0.hasPrefix("OK me") } != nil)

        let modern = try IRCTestClient.registered("modern", port: daemon.port, caps: "server-time batch")
        modern.send("JOIN #dev")
        #expect(modern.expect(" 366 ") != nil)
        #expect(modern.readLine() == ":chatd BATCH +chathistory chathistory #dev")
        let chat = modern.readLine() ?? ""
        #expect(chat.hasPrefix("@batch=chathistory;time=") && chat.hasSuffix(" :talker!talker@chatd PRIVMSG #dev :earlier words"))
        #expect(modern.readLine()?.hasSuffix(" :talker!talker@chatd PRIVMSG #dev :\u{1}ACTION nods\u{1}") == true)
        #expect(modern.readLine() == ":chatd BATCH -chathistory")

        let plain = try IRCTestClient.registered("plain", port: daemon.port)
        plain.send("JOIN #dev")
        #expect(plain.expect(" 366 ") != nil)
        let replayed = plain.readLine() ?? ""
        #expect(replayed.hasPrefix(":chatd NOTICE #dev :[") && replayed.hasSuffix("] <talker> earlier words"),
                "without server-time a replayed line is a server notice, which no user can send")
    }
}
