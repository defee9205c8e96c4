import Testing
@testable import ChatCore

/// Drives a Hub the way the I/O layer does and reads back what each client would receive.
private final class Harness {
    let hub: Hub
    private var received: [Int: [String]] = [:]

    init(limits: ChatLimits = ChatLimits()) { hub = Hub(limits: limits) }

    @discardableResult
    func connect(_ slot: Int) -> ClientID {
        let id = ClientID(slot)
        hub.connect(id, address: "127.0.0.1:\(40000 + slot)")
        return id
    }

    func say(_ slot: Int, _ line: String) { hub.receive(Array(line.utf8), from: ClientID(slot)) }

    /// Everything queued for each client since the last call, as lines; empties the outbox.
    @discardableResult
    func flush() -> [Int: [String]] {
        var lines: [Int: [String]] = [:]
        for id in hub.outbox.dirty {
            // Split bytes, not Characters: Swift treats "\r\n" as one Character.
            let bytes = hub.outbox.bytes(for: id)
            lines[Int(id.index), default: []] += bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        }
        hub.outbox.reset()
        return lines
    }

    func lines(_ slot: Int) -> [String] { flush()[slot] ?? [] }
}

@Suite struct HubTests {
    @Test func aNewClientIsWelcomedInTheLobbyAndAnnounced() {
        let chat = Harness()
        chat.connect(0)
        #expect(chat.lines(0) == ["*** welcome to chatd, 127.0.0.1:40000: you are in #lobby; lines are limited to 4096 bytes; type /help for commands"])
        chat.connect(1)
        let out = chat.flush()
        #expect(out[0] == ["*** 127.0.0.1:40001 joined #lobby"])
        #expect(out[1]?.count == 1)
    }

    @Test func aLineReachesEveryOtherMemberOnceAndNotTheSender() {
        let chat = Harness()
        (0..<3).forEach { chat.connect($0) }
        chat.flush()
        chat.say(0, "hello")
        let out = chat.flush()
        #expect(out[0] == nil)
        #expect(out[1] == ["#lobby <127.0.0.1:40000> hello"])
        #expect(out[2] == ["#lobby <127.0.0.1:40000> hello"])
    }

    @Test func fanOutSharesOneRenderingAndMergesConsecutiveMessages() {
        let chat = Harness()
        (0..<4).forEach { chat.connect($0) }
        chat.flush()
        let before = chat.hub.outbox.arena.count
        chat.say(0, "one")
        chat.say(0, "two")
        let line = "#lobby <127.0.0.1:40000> one\n".utf8.count + "#lobby <127.0.0.1:40000> two\n".utf8.count
        #expect(chat.hub.outbox.arena.count - before == line)  // rendered once, not per recipient
        var ranges = 0
        chat.hub.outbox.forEachRange(of: ClientID(2)) { _, _ in ranges += 1 }
        #expect(ranges == 1)  // both messages in one contiguous range
    }

    /// Replies, welcomes and replays go to the own arena: a listener's notices and lines stay
    /// one range while clients join (each with its welcome and history replay), talk and leave
    /// between them, and every client still reads its own messages and the shared ones in the
    /// order they were queued.
    @Test func oneRecipientMessagesDoNotSplitAListenersRange() {
        let chat = Harness()
        chat.hub.history = HistoryBook(linesPerRoom: 50)
        chat.connect(0)
        chat.say(0, "before")
        chat.flush()
        chat.connect(1)
        chat.say(1, "first")
        chat.connect(2)
        chat.say(2, "/nosuchcommand")
        chat.say(2, "second")
        chat.hub.disconnect(ClientID(1), reason: "gone")
        var ranges = 0
        chat.hub.outbox.forEachRange(of: ClientID(0)) { _, _ in ranges += 1 }
        #expect(ranges == 1)
        var joinerRanges = 0
        chat.hub.outbox.forEachRange(of: ClientID(2)) { _, _ in joinerRanges += 1 }
        #expect(joinerRanges == 2, "its welcome, replay and error in one own range, then the shared quit notice")
        let out = chat.flush()
        #expect(out[0] == ["*** 127.0.0.1:40001 joined #lobby", "#lobby <127.0.0.1:40001> first", "*** 127.0.0.1:40002 joined #lobby",
                           "#lobby <127.0.0.1:40002> second", "*** 127.0.0.1:40001 quit (gone)"])
        let joiner = out[2] ?? []
        #expect(joiner.count == 5, "\(joiner)")
        guard joiner.count == 5 else { return }
        #expect(joiner[0].hasPrefix("*** welcome to chatd, 127.0.0.1:40002"))
        #expect(joiner[1].hasPrefix("HISTORY #lobby ") && joiner[1].hasSuffix("<127.0.0.1:40000> before"))
        #expect(joiner[2].hasPrefix("HISTORY #lobby ") && joiner[2].hasSuffix("<127.0.0.1:40001> first"))
        #expect(joiner[3].contains("nosuchcommand"))
        #expect(joiner[4] == "*** 127.0.0.1:40001 quit (gone)")
    }

    /// One client's shared, own and shared messages in one pass arrive in that order.
    @Test func ownAndSharedMessagesKeepTheirOrder() {
        let chat = Harness()
        (0..<2).forEach { chat.connect($0) }
        chat.flush()
        chat.say(1, "one")
        chat.say(0, "/nosuchcommand")
        chat.say(1, "two")
        let out = chat.flush()[0] ?? []
        #expect(out.count == 3, "\(out)")
        guard out.count == 3 else { return }
        #expect(out[0] == "#lobby <127.0.0.1:40001> one")
        #expect(out[1].contains("nosuchcommand"))
        #expect(out[2] == "#lobby <127.0.0.1:40001> two")
    }

    @Test func invalidNamesAreRefused() {
        let chat = Harness()
        chat.connect(0)
        chat.flush()
        for name in ["1abc", "#room", "a:b", String(repeating: "x", count: 31), "é"] {
            chat.say(0, "/nick \(name)")
            #expect(chat.lines(0).first?.hasPrefix("ERROR NICK_INVALID:") == true, "\(name)")
        }
    }

    @Test func renameIsAnnouncedOnceToSomeoneSharingSeveralRooms() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.say(0, "/join #a")
        chat.say(1, "/join #a")
        chat.flush()
        chat.say(0, "/nick alice")
        #expect(chat.flush()[1] == ["*** 127.0.0.1:40000 is now known as alice"])
    }

    @Test func roomsIsolateTheirMessages() {
        let chat = Harness()
        (0..<3).forEach { chat.connect($0) }
        chat.say(0, "/join #a")
        chat.say(1, "/join #a")
        chat.say(2, "/join #b")
        chat.say(2, "/part #lobby")
        chat.flush()
        chat.say(0, "secret")
        let out = chat.flush()
        #expect(out[1] == ["#a <127.0.0.1:40000> secret"])
        #expect(out[2] == nil)
    }

    @Test func joinMakesARoomCurrentAndPartFallsBack() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.flush()
        chat.say(0, "/join #dev")
        #expect(chat.lines(0) == ["OK join #dev 1 member"])
        chat.say(0, "/join #lobby")
        #expect(chat.lines(0) == ["OK join #lobby (already a member; now your current room)"])
        chat.say(0, "back in the lobby")
        #expect(chat.flush()[1] == ["#lobby <127.0.0.1:40000> back in the lobby"])
        chat.say(0, "/part")
        #expect(chat.flush()[0] == ["OK part #lobby; current room: #dev"])
        chat.say(0, "/part")
        #expect(chat.lines(0) == ["OK part #dev; you are in no room now"])
        chat.say(0, "anyone?")
        #expect(chat.lines(0) == ["ERROR NO_ROOM: you are not in any room; /join one first"])
    }

    @Test func partNotifiesTheRoomWithTheReason() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.say(0, "/nick ann")
        chat.flush()
        chat.say(0, "/part #lobby see you")
        #expect(chat.flush()[1] == ["*** ann left #lobby (see you)"])
    }

    @Test func roomErrors() {
        let chat = Harness()
        chat.connect(0)
        chat.flush()
        chat.say(0, "/join #bad room! extra")
        #expect(chat.lines(0).first?.hasPrefix("ERROR USAGE:") == true)
        chat.say(0, "/join #no!")
        #expect(chat.lines(0).first?.hasPrefix("ERROR ROOM_INVALID:") == true)
        chat.say(0, "/say #nowhere hi")
        #expect(chat.lines(0) == ["ERROR NO_SUCH_ROOM: there is no room #nowhere"])
        chat.say(0, "/who #nowhere")
        #expect(chat.lines(0) == ["ERROR NO_SUCH_ROOM: there is no room #nowhere"])
        chat.connect(1)
        chat.say(1, "/join #other")
        chat.flush()
        chat.say(0, "/say #other hi")
        #expect(chat.lines(0) == ["ERROR NOT_IN_ROOM: you are not in #other; /join it first"])
        chat.say(0, "/part #other")
        #expect(chat.lines(0) == ["ERROR NOT_IN_ROOM: you are not in #other; /join it first"])
    }

    @Test func tooManyRooms() {
        var limits = ChatLimits()
        limits.maxRoomsPerClient = 2
        let chat = Harness(limits: limits)
        chat.connect(0)
        chat.say(0, "/join #a")
        chat.flush()
        chat.say(0, "/join #b")
        #expect(chat.lines(0).first?.hasPrefix("ERROR TOO_MANY_ROOMS:") == true)
    }

    @Test func emptiedRoomsDisappearButTheLobbyStays() {
        let chat = Harness()
        chat.connect(0)
        chat.say(0, "/join #tmp")
        chat.say(0, "/part #tmp")
        chat.say(0, "/part #lobby")
        chat.flush()
        chat.say(0, "/rooms")
        #expect(chat.lines(0) == ["OK-rooms #lobby 0 members", "OK rooms 1 room"])
    }

    @Test func privateMessagesReachOnlyTheirTarget() {
        let chat = Harness()
        (0..<3).forEach { chat.connect($0) }
        chat.say(0, "/nick ann")
        chat.say(1, "/nick bob")
        chat.flush()
        chat.say(0, "/msg BOB psst")
        let out = chat.flush()
        #expect(out[0] == ["OK msg bob"])
        #expect(out[1] == ["PM <ann> psst"])
        #expect(out[2] == nil)
        chat.say(0, "/msg nobody hi")
        #expect(chat.lines(0) == [#"ERROR NO_SUCH_NICK: "nobody" is not online"#])
    }

    @Test func awayAndWhois() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.say(0, "/nick ann")
        chat.flush()
        chat.say(0, "/away lunch")
        #expect(chat.lines(0) == ["OK away set"])
        chat.say(1, "/msg ann hi")
        #expect(chat.flush()[1] == ["OK msg ann (away: lunch)"])
        chat.say(1, "/whois ann")
        #expect(chat.lines(1) == ["OK whois ann from 127.0.0.1:40000 in #lobby away: lunch"])
        chat.say(0, "/away")
        #expect(chat.lines(0) == ["OK away cleared"])
        chat.say(1, "/whois zed")
        #expect(chat.lines(1) == [#"ERROR NO_SUCH_NICK: "zed" is not online"#])
    }

    @Test func whoUsersRoomsAndTopic() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.say(0, "/nick ann")
        chat.say(1, "/nick bob")
        chat.say(0, "/join #dev")
        chat.flush()
        chat.say(0, "/topic #dev shipping friday")
        let out = chat.flush()
        #expect(out[0] == ["OK topic #dev set"])
        chat.say(1, "/topic #dev")
        #expect(chat.lines(1) == ["OK topic #dev: shipping friday"])
        chat.say(1, "/topic #dev hijack")
        #expect(chat.lines(1) == ["ERROR NOT_IN_ROOM: you are not in #dev; /join it first"])
        chat.say(1, "/rooms")
        #expect(chat.lines(1) == ["OK-rooms #dev 1 member: shipping friday", "OK-rooms #lobby 2 members", "OK rooms 2 rooms"])
        chat.say(1, "/who")
        #expect(chat.lines(1) == ["OK-who #lobby ann", "OK-who #lobby bob", "OK who #lobby 2 members"])
        chat.say(1, "/users")
        #expect(chat.lines(1) == ["OK-users ann", "OK-users bob", "OK users 2 online"])
    }

    @Test func meAndSayTo() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.say(0, "/nick ann")
        chat.say(0, "/join #dev")
        chat.say(1, "/join #dev")
        chat.say(1, "/join #lobby")
        chat.flush()
        chat.say(0, "/me waves")
        var out = chat.flush()
        #expect(out[0] == ["OK me #dev"])
        #expect(out[1] == ["#dev * ann waves"])
        chat.say(0, "/say #lobby hi lobby")
        out = chat.flush()
        #expect(out[0] == ["OK say #lobby"])
        #expect(out[1] == ["#lobby <ann> hi lobby"])
    }

    @Test func pingHelpAndUnknown() {
        let chat = Harness()
        chat.connect(0)
        chat.flush()
        chat.say(0, "/ping abc")
        #expect(chat.lines(0) == ["OK pong abc"])
        chat.say(0, "/help")
        let help = chat.lines(0)
        #expect(help.count == 31, "30 help lines, then the summary README quotes")
        #expect(help.last?.hasPrefix("OK help 30 commands") == true)
        #expect(help.dropLast().allSatisfy { $0.hasPrefix("OK-help /") })
        #expect(help.last?.hasPrefix("OK help ") == true)
        chat.say(0, "/nope")
        #expect(chat.lines(0).first?.hasPrefix("ERROR UNKNOWN_COMMAND:") == true)
    }

    @Test func quitSaysGoodbyeNotifiesAndAsksToClose() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.say(0, "/nick ann")
        chat.flush()
        chat.say(0, "/quit gone fishing")
        #expect(chat.hub.outbox.closeRequests == [ClientID(0)])
        let out = chat.flush()
        #expect(out[0] == ["OK quit goodbye"])
        #expect(out[1] == ["*** ann quit (gone fishing)"])
        #expect(chat.hub.clientCount == 1)
        chat.say(0, "still here?")  // lines after /quit in the same read are ignored
        #expect(chat.flush().isEmpty)
        chat.hub.disconnect(ClientID(0), reason: "connection lost")  // idempotent
        #expect(chat.flush().isEmpty)
    }

    @Test func connectionLossIsAnnounced() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.flush()
        chat.hub.disconnect(ClientID(1), reason: "connection lost")
        #expect(chat.flush()[0] == ["*** 127.0.0.1:40001 quit (connection lost)"])
        #expect(chat.hub.name(of: ClientID(1)) == nil)
    }

    @Test func noticesStopAboveTheRoomSizeLimit() {
        var limits = ChatLimits()
        limits.noticeRoomLimit = 3
        let chat = Harness(limits: limits)
        (0..<3).forEach { chat.connect($0) }
        chat.flush()
        chat.connect(3)  // the room now has 4 members: no join notice
        let out = chat.flush()
        #expect(out[0] == nil)
        chat.say(3, "chat still flows")
        #expect(chat.flush()[0] == ["#lobby <127.0.0.1:40003> chat still flows"])
        chat.hub.disconnect(ClientID(3), reason: "bye")  // quit notices follow the same limit
        #expect(chat.flush()[0] == nil)
        chat.hub.disconnect(ClientID(2), reason: "bye")  // 3 members again
        #expect(chat.flush()[0] == ["*** 127.0.0.1:40002 quit (bye)"])
    }

    @Test func framerRejectionsAndTelnetAnswers() {
        let chat = Harness()
        chat.connect(0)
        chat.flush()
        chat.hub.reject(.overlong, from: ClientID(0))
        chat.hub.reject(.invalidUTF8, from: ClientID(0))
        #expect(chat.lines(0) == ["ERROR LINE_TOO_LONG: lines are limited to 4096 bytes; that line was dropped",
                                  "ERROR INVALID_UTF8: lines must be UTF-8 text; that line was dropped"])
        chat.hub.reject(.telnetNegotiation(verb: 253, option: 6), from: ClientID(0))
        chat.hub.reject(.telnetNegotiation(verb: 251, option: 1), from: ClientID(0))
        chat.hub.reject(.telnetNegotiation(verb: 252, option: 1), from: ClientID(0))
        #expect(chat.hub.outbox.bytes(for: ClientID(0)) == [255, 252, 6, 255, 254, 1])
    }

    @Test func seedClientsAreAnsweredInTheSeedProtocol() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.connect(2)
        chat.flush()
        chat.say(0, "JOIN:alice")
        var out = chat.flush()
        #expect(out[0] == ["SERVER:nick alice"])
        #expect(out[1] == ["*** 127.0.0.1:40000 is now known as alice"])
        chat.say(1, "JOIN:bob")
        out = chat.flush()
        #expect(out[0] == ["JOIN:bob"])
        chat.say(0, "SAY::hi bob")
        out = chat.flush()
        #expect(out[1] == ["SAY:alice:hi bob"])
        #expect(out[2] == ["#lobby <alice> hi bob"])
        chat.say(2, "native line")
        #expect(chat.flush()[0] == ["SAY:127.0.0.1:40002:native line"])
        chat.say(0, "/nick 9")
        #expect(chat.lines(0).first?.hasPrefix("ERROR:NICK_INVALID: ") == true)
        chat.say(1, "LEAVE:bye")
        out = chat.flush()
        #expect(out[0] == ["LEAVE:bob"])
        #expect(out[2] == ["*** bob quit (bye)"])
    }

    @Test func announceReachesEveryone() {
        let chat = Harness()
        (0..<3).forEach { chat.connect($0) }
        chat.flush()
        chat.hub.announce("maintenance at noon")
        let out = chat.flush()
        #expect((0..<3).allSatisfy { out[$0] == ["*** maintenance at noon"] })
    }
}

@Suite struct HardeningRulesTests {
    @Test func aClientSendingOnlyJunkIsDisconnected() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.flush()
        for _ in 0..<9 { chat.hub.reject(.invalidUTF8, from: ClientID(0)) }
        #expect(chat.hub.outbox.closeRequests.isEmpty)
        chat.say(0, "a valid line resets the count")
        for _ in 0..<9 { chat.hub.reject(.overlong, from: ClientID(0)) }
        #expect(chat.hub.outbox.closeRequests.isEmpty)
        chat.hub.reject(.overlong, from: ClientID(0))
        #expect(chat.hub.outbox.closeRequests == [ClientID(0)])
        let out = chat.flush()
        #expect(out[0]?.last == "ERROR JUNK: 10 invalid lines in a row; closing the connection")
        chat.hub.reject(.invalidUTF8, from: ClientID(0))  // the rest of the same read
        #expect(chat.flush().isEmpty, "nothing more is said to a client that was cut")
        #expect(out[1]?.last == "*** 127.0.0.1:40000 quit (sent junk)")
    }

    @Test func anHTTPRequestGetsAnHTTPAnswerAndIsClosed() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.flush()
        chat.say(0, "GET / HTTP/1.1")
        #expect(chat.hub.outbox.closeRequests == [ClientID(0)])
        let out = chat.flush()
        #expect(out[0]?.first == "HTTP/1.0 400 Bad Request\r")
        #expect(out[0]?.last == "ERROR NOT_CHAT: this is chatd, a line-based chat server; connect with nc or telnet")
        #expect(out[1]?.contains { $0.contains("GET") } != true, "the request is not relayed")
    }

    @Test func onlyTheFirstLineCanBeAnHTTPRequest() {
        let chat = Harness()
        chat.connect(0)
        chat.connect(1)
        chat.say(0, "hello")
        chat.flush()
        chat.say(0, "GET / HTTP/1.1")
        #expect(chat.flush()[1] == ["#lobby <127.0.0.1:40000> GET / HTTP/1.1"])
        chat.connect(2)
        chat.flush()
        chat.say(2, "GET me a coffee")
        #expect(chat.hub.outbox.closeRequests.isEmpty)
    }

    @Test func tokenBucketAllowsABurstThenTheRate() {
        var bucket = TokenBucket(rate: 2, burst: 3, now: 0)
        var taken: [Bool] = []
        for _ in 0..<4 { taken.append(bucket.take(now: 0)) }
        #expect(taken == [true, true, true, false])
        #expect(bucket.wait(now: 0) == 0.5)
        taken = [bucket.take(now: 0.5), bucket.take(now: 0.5)]
        #expect(taken == [true, false])
        taken = (0..<4).map { _ in bucket.take(now: 10) }
        #expect(taken == [true, true, true, false], "never more than the burst")
    }
}
