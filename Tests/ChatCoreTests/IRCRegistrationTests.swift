import Testing
@testable import ChatCore

/// Registration as pure state: what each line before 001 produces.
@Suite struct IRCRegistrationTests {
    private func lines(_ actions: [IRCRegistration.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .send(let message): return String(decoding: message.bytes.dropLast(2), as: UTF8.self)
            case .verifySASL(let account, let password): return "verify \(account) \(String(decoding: password, as: UTF8.self))"
            case .complete: return "complete"
            case .close(let text): return "close \(text)"
            }
        }
    }

    private func feed(_ registration: inout IRCRegistration, _ text: String, taken: Set<String> = []) -> [String] {
        guard case .message(let message) = IRCMessage.parse(Array(text.utf8)) else { return ["unparsed"] }
        return lines(registration.handle(message) { taken.contains(NameRules.fold($0)) })
    }

    @Test func nickAndUserRegister() {
        var registration = IRCRegistration(startedAt: 0)
        #expect(feed(&registration, "NICK alice") == [])
        #expect(feed(&registration, "USER alice 0 * :Alice") == ["complete"])
        #expect(registration.nick == "alice" && registration.isRegistered)
    }

    @Test func capNegotiationHoldsRegistrationUntilEnd() {
        var registration = IRCRegistration(startedAt: 0)
        #expect(feed(&registration, "CAP LS 302") == [":chatd CAP * LS :away-notify batch cap-notify echo-message message-tags multi-prefix sasl=PLAIN server-time"])
        #expect(feed(&registration, "NICK alice") == [])
        #expect(feed(&registration, "USER alice 0 * :Alice") == [], "held while negotiating")
        #expect(feed(&registration, "CAP REQ :server-time batch") == [":chatd CAP alice ACK :server-time batch"])
        #expect(feed(&registration, "CAP REQ :server-time bogus") == [":chatd CAP alice NAK :server-time bogus"])
        #expect(feed(&registration, "CAP LIST") == [":chatd CAP alice LIST :batch cap-notify server-time"])
        #expect(feed(&registration, "CAP END") == ["complete"])
        #expect(IRCVariant(registration.capabilities) == .timedBatched)
    }

    @Test func bareCapLSListsSASLWithoutMechanisms() {
        var registration = IRCRegistration(startedAt: 0)
        #expect(feed(&registration, "CAP LS").first?.hasSuffix(" sasl server-time") == true)
        #expect(!registration.capabilities.contains(.capNotify))
    }

    @Test func errorsBeforeRegistration() {
        var registration = IRCRegistration(startedAt: 0)
        #expect(feed(&registration, "JOIN #dev") == [":chatd 451 * :You have not registered"])
        #expect(feed(&registration, "NICK") == [":chatd 431 * :No nickname given"])
        #expect(feed(&registration, "NICK 9lives") == [":chatd 432 * 9lives :Erroneous nickname"])
        #expect(feed(&registration, "NICK Bob", taken: ["bob"]) == [":chatd 433 * Bob :Nickname is already in use"])
        #expect(feed(&registration, "USER x") == [":chatd 461 * USER :Not enough parameters"])
        #expect(feed(&registration, "CAP FROB") == [":chatd 410 * FROB :Invalid CAP command"])
        #expect(feed(&registration, "PING abc") == [":chatd PONG chatd abc"])
        #expect(feed(&registration, "QUIT :bye") == ["close Client quit"])
    }

    @Test func passIsKept() {
        var registration = IRCRegistration(startedAt: 0)
        _ = feed(&registration, "PASS :s3cret word")
        #expect(registration.password == Array("s3cret word".utf8))
    }

    @Test func timeoutCountsFromTheStart() {
        var registration = IRCRegistration(startedAt: 100)
        _ = feed(&registration, "CAP LS 302")
        #expect(!registration.isOverdue(now: 129))
        #expect(registration.isOverdue(now: 131))
        _ = feed(&registration, "NICK a")
        _ = feed(&registration, "USER a 0 * :a")
        _ = feed(&registration, "CAP END")
        #expect(!registration.isOverdue(now: 1000))
    }

    @Test func saslPlainWaitsForTheHub() {
        var registration = IRCRegistration(startedAt: 0)
        _ = feed(&registration, "CAP LS 302")
        _ = feed(&registration, "CAP REQ sasl")
        _ = feed(&registration, "NICK alice")
        _ = feed(&registration, "USER alice 0 * :Alice")
        #expect(feed(&registration, "AUTHENTICATE SCRAM-SHA-256") == [":chatd 908 alice PLAIN :are available SASL mechanisms", ":chatd 904 alice :SASL authentication failed"])
        #expect(feed(&registration, "AUTHENTICATE PLAIN") == ["AUTHENTICATE +"])
        let payload = Base64.encode(Array("\0alice\0secret".utf8))
        #expect(feed(&registration, "AUTHENTICATE " + payload) == ["verify alice secret"])
        #expect(feed(&registration, "CAP END") == [], "registration waits for the password check")
        #expect(lines(registration.saslFinished(account: "alice")) == [
            ":chatd 900 alice alice!alice@chatd alice :You are now logged in as alice",
            ":chatd 903 alice :SASL authentication successful",
            "complete",
        ])
    }

    @Test func saslFailureAbortAndBounds() {
        var registration = IRCRegistration(startedAt: 0)
        #expect(feed(&registration, "AUTHENTICATE PLAIN") == [":chatd 904 * :SASL authentication failed: enable the sasl capability first"])
        _ = feed(&registration, "CAP REQ sasl")
        _ = feed(&registration, "AUTHENTICATE PLAIN")
        #expect(feed(&registration, "AUTHENTICATE *") == [":chatd 906 * :SASL authentication aborted"])
        _ = feed(&registration, "AUTHENTICATE PLAIN")
        #expect(feed(&registration, "AUTHENTICATE !!!!") == [":chatd 904 * :SASL authentication failed"])
        _ = feed(&registration, "AUTHENTICATE PLAIN")
        let chunk = String(repeating: "A", count: IRCRegistration.saslChunkBytes)
        for _ in 0..<3 { #expect(feed(&registration, "AUTHENTICATE " + chunk) == []) }
        #expect(feed(&registration, "AUTHENTICATE " + chunk) == [":chatd 905 * :SASL message too long"])
        _ = feed(&registration, "AUTHENTICATE PLAIN")
        #expect(feed(&registration, "AUTHENTICATE " + Base64.encode(Array("bob\0alice\0pw".utf8))) == [":chatd 904 * :SASL authentication failed"],
                "an authzid naming someone else is refused")
        _ = feed(&registration, "AUTHENTICATE PLAIN")
        _ = feed(&registration, "AUTHENTICATE " + Base64.encode(Array("\0alice\0pw".utf8)))
        #expect(lines(registration.saslFinished(account: nil)) == [":chatd 904 * :SASL authentication failed"])
    }

    @Test func welcomeBurst() {
        let lines = IRCWelcome.lines(nick: "alice", limits: ChatLimits(), motd: [], counts: .init(users: 3, channels: 2))
        let commands = lines.map(\.command)
        #expect(commands.prefix(4) == ["001", "002", "003", "004"])
        #expect(commands.contains("005") && commands.contains("251") && commands.contains("255"))
        #expect(commands.last == "422")
        let withMotd = IRCWelcome.lines(nick: "alice", limits: ChatLimits(), motd: ["hello"], counts: .init(users: 1, channels: 1))
        #expect(withMotd.suffix(3).map(\.command) == ["375", "372", "376"])
        #expect(withMotd.allSatisfy { $0.params.first == "alice" })
    }
}
