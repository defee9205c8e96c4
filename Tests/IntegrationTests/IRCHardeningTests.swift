import ChatTestSupport
import Foundation
import Testing

/// Hostile IRC input: every bound answers with one line or closes the one client that hit it,
/// and the server goes on serving.
@Suite struct IRCHardeningTests {
    @Test func overlongLinesGet417AndAreDroppedWhole() throws {
        let daemon = try Daemon()
        let irc = try IRCTestClient.registered("long", port: daemon.port)
        irc.send("JOIN #dev")
        #expect(irc.expect(" 366 ") != nil)
        irc.send("PRIVMSG #dev :" + String(repeating: "x", count: 600))
        #expect(irc.readLine() == ":chatd 417 long :Input line was too long", "over IRC's 512 bytes")
        irc.send("PRIVMSG #dev :" + String(repeating: "y", count: 100_000))
        #expect(irc.readLine() == ":chatd 417 * :Input line was too long", "100 KB: past the framer's cap, dropped whole")
        #expect(irc.sync() == [], "nothing else came back, and the connection still works")
        irc.send("@" + String(repeating: "t", count: 8000) + " PRIVMSG #dev :tags do not count against 512")
        #expect(irc.sync() == [])
    }

    /// 1,000 channels do not fit IRC's 512 bytes in one JOIN: they come as JOIN lines of as
    /// many channels as fit. 50 are joined (CHANLIMIT=#:50); each later line gets one 405.
    @Test func joiningAThousandChannelsStopsAtTheLimit() throws {
        let daemon = try Daemon(["--max-line-rate", "0"])
        let irc = try IRCTestClient.registered("greedy", port: daemon.port)
        var lines: [String] = []
        var current = ""
        for index in 1...1000 {
            let name = "#c\(index)"
            if current.utf8.count + name.utf8.count + 1 > 400 {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? name : "," + name
        }
        lines.append(current)
        irc.send("JOIN " + String(repeating: "#x,", count: 200) + "#x")
        #expect(irc.readLine() == ":chatd 417 greedy :Input line was too long", "one line of 1,000 channels is over IRC's limit")
        for line in lines { irc.send("JOIN " + line) }
        let answers = irc.sync() ?? []
        #expect(answers.filter { $0.hasPrefix(":greedy!greedy@chatd JOIN ") }.count == 50)
        let refusals = answers.filter { $0.contains(" 405 ") }
        #expect(refusals.first == ":chatd 405 greedy #c51 :You have joined too many channels")
        #expect(refusals.count <= lines.count, "at most one 405 per JOIN line, not one per channel")
    }

    @Test func tooManyTargetsAre407AndNothingIsSent() throws {
        let daemon = try Daemon()
        let victim = try IRCTestClient.registered("victim", port: daemon.port)
        let spammer = try IRCTestClient.registered("spammer", port: daemon.port)
        spammer.send("PRIVMSG " + (["victim"] + (1...999).map { "n\($0)" }).joined(separator: ",") + " :spam")
        #expect(spammer.readLine() == ":chatd 417 spammer :Input line was too long", "1,000 targets are over IRC's limit")
        spammer.send("PRIVMSG " + (["victim"] + (1...60).map { "n\($0)" }).joined(separator: ",") + " :spam")
        #expect(spammer.readLine()?.hasPrefix(":chatd 407 spammer victim,n1,") == true)
        #expect(victim.drain(seconds: 0.5).isEmpty, "nothing was sent to anyone")
        spammer.send("PRIVMSG victim,victim :twice")
        #expect(victim.expect("PRIVMSG") == ":spammer!spammer@chatd PRIVMSG * :twice")
    }

    @Test func capNegotiationThatNeverEndsTimesOut() throws {
        let daemon = try Daemon(["--irc-registration-timeout", "1"])
        let irc = try IRCTestClient(port: daemon.port)
        irc.send("CAP LS 302")
        irc.send("NICK slow")
        irc.send("USER slow 0 * :Slow")
        #expect(irc.expect("ERROR", timeout: 5) == "ERROR :Registration timeout")
        #expect(irc.waitForClose())
    }

    @Test func silentClientsArePingedAndClosed() throws {
        let daemon = try Daemon(["--irc-ping-interval", "1"])
        let answering = try IRCTestClient.registered("answers", port: daemon.port)
        let silent = try IRCTestClient.registered("silent", port: daemon.port)
        #expect(answering.expect("PING", timeout: 5) == "PING chatd")
        answering.send("PONG chatd")
        #expect(silent.expect("PING", timeout: 5) == "PING chatd")
        #expect(silent.expect("ERROR", timeout: 5) == "ERROR :Ping timeout")
        #expect(silent.waitForClose())
        #expect(answering.sync() != nil, "a client that answers stays")
    }

    @Test func nickFlappingIsHeldByFloodControl() throws {
        let daemon = try Daemon(["--max-line-rate", "5", "--line-burst", "10"])
        let watcher = try IRCTestClient.registered("watcher", port: daemon.port)
        let flapper = try IRCTestClient.registered("flap", port: daemon.port)
        watcher.send("JOIN #dev")
        #expect(watcher.expect(" 366 ") != nil)
        flapper.send("JOIN #dev")
        #expect(watcher.expect("JOIN #dev") != nil)
        var burst: [UInt8] = []
        for index in 0..<1000 { burst += Array("NICK flap\(index % 2 == 0 ? "a" : "b")\r\n".utf8) }
        flapper.sendRaw(burst)
        let seen = watcher.drain(seconds: 1.5).filter { $0.contains(" NICK ") }
        #expect(seen.count >= 1 && seen.count <= 30, "flood control lets through about the burst, not 1,000 (saw \(seen.count))")
        #expect(watcher.sync() != nil)
    }
}
