import Testing
@testable import ChatCore

/// A hub with client 0 logged in as the operator `root` (password work done synchronously).
private final class Moderated {
    let hub = Hub()

    init(password: String? = nil) {
        if let password { hub.serverPassword = { $0 == Array(password.utf8) } }
        hub.operatorAccounts = ["root": Account(name: "root", hash: "h")]
        hub.now = 1000
        connect(0)
        if let password { say(0, "/pass \(password)") }
        say(0, "/login root operator-pass")
        while let job = hub.nextPasswordJob() { hub.authFinished(AuthResult(job: job, outcome: .verified)) }
        hub.outbox.reset()
    }

    func connect(_ slot: Int, _ address: String? = nil) {
        hub.connect(ClientID(slot), address: address ?? "127.0.0.1:\(40000 + slot)")
    }

    func say(_ slot: Int, _ line: String) { hub.receive(Array(line.utf8), from: ClientID(slot)) }

    /// Lines for `slot` since the last call; clears everyone's output.
    func take(_ slot: Int) -> [String] {
        let lines = hub.outbox.bytes(for: ClientID(slot)).split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        hub.outbox.reset()
        return lines
    }

    func last(_ slot: Int) -> String? { take(slot).last }
}

@Suite struct ModerationRulesTests {
    @Test func everyNameCommandFindsAGuestByItsAddressName() {
        let chat = Moderated()
        chat.connect(1, "127.0.0.2:5000")
        chat.say(0, "/whois 127.0.0.2:5000")
        #expect(chat.last(0) == "OK whois 127.0.0.2:5000 from 127.0.0.2:5000 in #lobby")
        chat.say(0, "/msg 127.0.0.2:5000 hi")
        #expect(chat.hub.outbox.bytes(for: ClientID(1)) == Array("PM <root> hi\n".utf8))
        #expect(chat.last(0) == "OK msg 127.0.0.2:5000")
        chat.say(1, "/nick carol")
        chat.say(0, "/whois 127.0.0.2:5000")
        #expect(chat.last(0) == "ERROR NO_SUCH_NICK: \"127.0.0.2:5000\" is not online", "once named, a client is its name only")
        chat.connect(2, "[::1]:6000")
        chat.say(0, "/join #mine")
        chat.say(2, "/join #mine")
        chat.say(0, "/owner #mine [::1]:6000")
        #expect(chat.last(0) == "OK owner [::1]:6000 owns #mine")
        chat.say(0, "/kick #mine [::1]:6000")
        #expect(chat.last(0) == "OK kick [::1]:6000 removed from #mine")
        chat.say(0, "/kill [::1]:6000")
        #expect(chat.last(0) == "OK kill [::1]:6000")
        #expect(chat.hub.clientCount == 2, "killed")
    }

    @Test func aRoomBanOfAGuestBindsToItsAddressAndRemovesIt() {
        let chat = Moderated()
        chat.connect(1, "127.0.0.2:5000")
        chat.connect(2, "127.0.0.2:5001")
        chat.connect(3, "127.0.0.3:5000")
        chat.say(0, "/join #mine")
        for slot in 1...3 { chat.say(slot, "/join #mine") }
        chat.take(0)
        chat.say(0, "/ban #mine 127.0.0.2:5000")
        #expect(chat.last(0) == "OK ban 127.0.0.2:5000 banned from #mine; 2 removed", "both members from that address")
        chat.say(1, "talking on")
        #expect(chat.hub.outbox.bytes(for: ClientID(3)) == Array("#lobby <127.0.0.2:5000> talking on\n".utf8), "said in the lobby, not #mine")
        chat.take(1)
        chat.say(1, "/nick sneaky")
        chat.say(1, "/join #mine")
        #expect(chat.last(1) == "ERROR BANNED_FROM_ROOM: you are banned from #mine")
        chat.connect(4, "[::ffff:127.0.0.2]:5002")
        chat.say(4, "/join #mine")
        #expect(chat.last(4) == "ERROR BANNED_FROM_ROOM: you are banned from #mine", "the mapped form of the address")
        chat.say(0, "/unban #mine 127.0.0.2")
        #expect(chat.last(0) == "OK unban 127.0.0.2 may join #mine again")
        chat.say(1, "/join #mine")
        #expect(chat.last(1) == "OK join #mine 3 members")
        chat.say(0, "/ban #mine 127.0.0.0/8")
        #expect(chat.last(0) == "OK ban 127.0.0.0/8 banned from #mine; 2 removed", "the owner is never removed")
        chat.say(0, "/ban #mine 9lives")
        #expect(chat.last(0)?.hasPrefix("ERROR USAGE: ") == true)
    }

    @Test func serverBansMatchAddressesRangesAndGuestNames() {
        let chat = Moderated()
        chat.connect(1, "[::1]:5000")
        chat.connect(2, "127.0.0.2:5000")
        chat.connect(3, "127.0.0.3:5000")
        chat.say(0, "/ban 0:0::1")
        #expect(chat.last(0) == "OK ban 0:0::1 banned; 1 disconnected")
        #expect(chat.hub.serverBans["::1"]?.isAddress == true, "stored under the canonical text")
        #expect(chat.hub.accountBook.pendingChanges.last == .saveBan(ServerBan(target: "::1", isAddress: true, until: nil, setBy: "root")))
        chat.connect(1, "[::1]:5001")
        #expect(chat.take(1).last == "ERROR BANNED: this address is banned from the server")
        chat.say(0, "/unban ::0001")
        #expect(chat.last(0) == "OK unban ::0001 unbanned")
        chat.say(0, "/ban 127.0.0.2:5000 1h")
        #expect(chat.last(0) == "OK ban 127.0.0.2:5000 banned until 1970-01-01T01:16:40Z; 1 disconnected", "a guest's name bans its address")
        chat.say(0, "/ban 127.0.0.0/30")
        #expect(chat.last(0) == "OK ban 127.0.0.0/30 banned; 1 disconnected", "the operator itself is spared")
        chat.connect(4, "[::ffff:127.0.0.3]:7000")
        #expect(chat.take(4).last == "ERROR BANNED: this address is banned from the server")
        chat.hub.now += 3600
        chat.say(0, "/unban 127.0.0.0/30")
        chat.connect(5, "127.0.0.2:5002")
        #expect(chat.take(5).last?.hasPrefix("ERROR") == false, "the timed ban expired")
        chat.say(0, "/ban 127.0.0.0/33")
        #expect(chat.last(0)?.hasPrefix("ERROR USAGE: ") == true)
    }

    @Test func anUnauthorisedClientGetsNothingButItsOwnAnswers() {
        let chat = Moderated(password: "sesame-street")
        chat.connect(1, "127.0.0.2:5000")
        chat.take(1)
        chat.say(0, "/announce hello")
        #expect(chat.hub.outbox.bytes(for: ClientID(1)).isEmpty)
        #expect(chat.last(0) == "OK announce sent to 1 clients")
        chat.say(0, "/msg 127.0.0.2:5000 hi")
        #expect(chat.last(0) == "ERROR NO_SUCH_NICK: \"127.0.0.2:5000\" is not online")
        for line in ["/bogus", "/pass", "/nick x y", "JOIN:eve"] {
            chat.say(1, line)
            #expect(chat.take(1) == ["ERROR PASSWORD_REQUIRED: this server needs a password: send /pass PASSWORD first"], "\(line)")
        }
        chat.say(1, "/ping p")
        #expect(chat.last(1) == "OK pong p")
    }

    @Test func topicAwayAndReasonLimitsCountBytes() {
        let chat = Moderated()
        chat.say(0, "/join #t")
        chat.take(0)
        chat.say(0, "/topic #t a" + String(repeating: "\u{301}", count: 1300))
        #expect(chat.last(0) == "ERROR TOPIC_TOO_LONG: topics are limited to 300 bytes")
        chat.say(0, "/topic #t " + String(repeating: "é", count: 150))
        #expect(chat.last(0) == "OK topic #t set")
        chat.say(0, "/away " + String(repeating: "x", count: 301))
        #expect(chat.last(0) == "ERROR TEXT_TOO_LONG: away messages are limited to 300 bytes")
        chat.say(0, "/away " + String(repeating: "x", count: 300))
        #expect(chat.last(0) == "OK away set")
        chat.connect(1)
        chat.say(1, "/join #t")
        for line in ["/part #t " + String(repeating: "é", count: 151), "/kick #t 127.0.0.1:40001 " + String(repeating: "x", count: 301),
                     "/kill 127.0.0.1:40001 " + String(repeating: "x", count: 301)] {
            chat.take(0)
            chat.say(line.hasPrefix("/part") ? 1 : 0, line)
            #expect(chat.last(line.hasPrefix("/part") ? 1 : 0) == "ERROR TEXT_TOO_LONG: reasons are limited to 300 bytes", "\(line.prefix(8))")
        }
        chat.take(0)
        chat.say(1, "/quit " + String(repeating: "é", count: 200))
        let quit = chat.take(0).last ?? ""
        #expect(quit == "*** 127.0.0.1:40001 quit (" + String(repeating: "é", count: 150) + ")", "a quit is never refused; its reason is cut")
    }

    @Test func seedWordsAreCommandsOnlyOnSeedConnections() {
        let chat = Moderated()
        chat.connect(1)
        chat.connect(2)
        chat.say(1, "hello")
        chat.take(2)
        chat.say(1, "LEAVE: brb")
        #expect(chat.take(2) == ["#lobby <127.0.0.1:40001> LEAVE: brb"])
        chat.say(2, "JOIN:seedy")
        chat.take(2)
        chat.say(2, "LEAVE:bye")
        #expect(chat.hub.outbox.closeRequests == [ClientID(2)], "a seed connection's LEAVE: quits")
    }
}
