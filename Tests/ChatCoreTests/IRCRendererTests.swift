import Testing
@testable import ChatCore

/// What an IRC client reads for each `Outgoing` value, and the render-once rule: the bytes do not
/// depend on the recipient.
@Suite struct IRCRendererTests {
    private func render(_ message: Outgoing, _ variant: IRCVariant = .plain) -> String {
        var out: [UInt8] = []
        IRCRenderer.render(message, variant: variant, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func chatActionAndPrivateMessages() {
        #expect(render(.chat(room: "#dev", from: "alice", text: ArraySlice("hi".utf8))) == ":alice!alice@chatd PRIVMSG #dev :hi\r\n")
        #expect(render(.chat(room: "#dev", from: "alice", text: ArraySlice(":)".utf8))) == ":alice!alice@chatd PRIVMSG #dev ::)\r\n")
        #expect(render(.action(room: "#dev", from: "alice", text: ArraySlice("waves".utf8))) == ":alice!alice@chatd PRIVMSG #dev :\u{1}ACTION waves\u{1}\r\n")
        #expect(render(.privateMessage(from: "bob", text: ArraySlice("psst".utf8))) == ":bob!bob@chatd PRIVMSG * :psst\r\n")
        #expect(render(.chat(room: "#dev", from: "127.0.0.1:5555", text: ArraySlice("x".utf8))) == ":127.0.0.1:5555!127.0.0.1:5555@chatd PRIVMSG #dev :x\r\n",
                "an unnamed native client is one IRC word")
    }

    @Test func noticesBecomeIRCEvents() {
        #expect(render(.notice(.joined(name: "alice", room: "#dev"))) == ":alice!alice@chatd JOIN #dev\r\n")
        #expect(render(.notice(.left(name: "alice", room: "#dev", reason: nil))) == ":alice!alice@chatd PART #dev\r\n")
        #expect(render(.notice(.left(name: "alice", room: "#dev", reason: "bye now"))) == ":alice!alice@chatd PART #dev :bye now\r\n")
        #expect(render(.notice(.quit(name: "alice", reason: "gone"))) == ":alice!alice@chatd QUIT :gone\r\n")
        #expect(render(.notice(.renamed(old: "alice", new: "alicia", firstName: false))) == ":alice!alice@chatd NICK alicia\r\n")
        #expect(render(.notice(.topic(room: "#dev", by: "bob", text: "ship it"))) == ":bob!bob@chatd TOPIC #dev :ship it\r\n")
        #expect(render(.notice(.server("restarting soon"))) == ":chatd NOTICE * :restarting soon\r\n")
    }

    @Test func repliesAndErrorsAreServerNotices() {
        #expect(render(.reply(command: "login", text: "logged in as alice", final: true)) == ":chatd NOTICE * :logged in as alice\r\n")
        #expect(render(.error(.badLogin, "wrong name or password")) == ":chatd NOTICE * :BAD_LOGIN: wrong name or password\r\n")
    }

    @Test func liveLinesAreTheSameInEveryVariant() {
        let message = Outgoing.chat(room: "#dev", from: "alice", text: ArraySlice("hi".utf8))
        #expect(render(message, .plain) == render(message, .timed))
        #expect(render(message, .plain) == render(message, .timedBatched))
    }

    private let entries = [
        HistoryEntry(room: "#dev", at: 1_796_299_200, kind: .chat, sender: "alice", text: Array("hi <there>".utf8)),
        HistoryEntry(room: "#dev", at: 1_796_299_201, kind: .action, sender: "bob", text: Array("waves".utf8)),
        HistoryEntry(room: "#dev", at: 1_796_299_202, kind: .topic, sender: "carol", text: Array("new topic".utf8)),
    ]

    @Test func historyWithoutServerTimeIsAServerNoticeNoUserCanForge() {
        let lines = entries.map { render(.history($0)) }
        #expect(lines[0] == ":chatd NOTICE #dev :[2026-12-03T12:00:00Z] <alice> hi <there>\r\n")
        #expect(lines[1] == ":chatd NOTICE #dev :[2026-12-03T12:00:01Z] * bob waves\r\n")
        #expect(lines[2] == ":chatd NOTICE #dev :[2026-12-03T12:00:02Z] *** carol set the topic: new topic\r\n")
    }

    @Test func historyWithServerTimeIsTimedAndBatched() {
        var out: [UInt8] = []
        IRCRenderer.renderHistoryReplay(room: "#dev", bodies: entries.map(WireStyle.historyBody), variant: .timedBatched, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == """
            :chatd BATCH +chathistory chathistory #dev\r
            @batch=chathistory;time=2026-12-03T12:00:00.000Z :alice!alice@chatd PRIVMSG #dev :hi <there>\r
            @batch=chathistory;time=2026-12-03T12:00:01.000Z :bob!bob@chatd PRIVMSG #dev :\u{1}ACTION waves\u{1}\r
            @batch=chathistory;time=2026-12-03T12:00:02.000Z :chatd NOTICE #dev :carol set the topic: new topic\r
            :chatd BATCH -chathistory\r

            """)
        #expect(render(.history(entries[0]), .timed) == "@time=2026-12-03T12:00:00.000Z :alice!alice@chatd PRIVMSG #dev :hi <there>\r\n")
    }

    @Test func everyRenderedLineParsesBack() {
        let messages: [Outgoing] = [
            .chat(room: "#dev", from: "alice", text: ArraySlice("a b c".utf8)),
            .notice(.left(name: "a", room: "#dev", reason: "x y")),
            .notice(.welcome(name: "1.2.3.4:5", room: "#lobby", maxLineBytes: 4096)),
        ] + entries.map { .history($0) }
        for message in messages {
            for variant in [IRCVariant.plain, .timed, .timedBatched] {
                var out: [UInt8] = []
                IRCRenderer.render(message, variant: variant, into: &out)
                #expect(out.suffix(2) == [0x0D, 0x0A])
                guard case .message = IRCMessage.parse(out.dropLast(2)) else {
                    Issue.record("unparseable: \(String(decoding: out, as: UTF8.self))")
                    continue
                }
            }
        }
    }

    @Test func isupportIsDerivedFromTheRealLimits() {
        var limits = ChatLimits()
        limits.maxTopicBytes = 123
        let tokens = IRCSupport.tokens(limits: limits)
        #expect(tokens.contains("TOPICLEN=123"))
        #expect(tokens.contains("NICKLEN=\(NameRules.maxNameLength)"))
        #expect(tokens.contains("CHANNELLEN=\(NameRules.maxRoomLength)"))
        #expect(tokens.contains("CASEMAPPING=ascii"))
        #expect(tokens.contains("CHANTYPES=#"))
        // CASEMAPPING=ascii is only honest if fold leaves rfc1459's extra pairs apart.
        #expect(NameRules.fold("[A]") == "[a]" && NameRules.fold("[a]") != NameRules.fold("{a}"))
        for line in IRCSupport.isupportLines(nick: "alice", limits: limits) {
            #expect(line.params.count - 2 <= IRCSupport.tokensPerLine)
            #expect(line.bytes.count <= IRCMessage.maxBodyBytes)
        }
    }

    @Test func numericsAreThreeDigits() {
        #expect(IRCNumeric.allCases.allSatisfy { $0.rawValue.count == 3 && $0.rawValue.allSatisfy(\.isNumber) })
        #expect(Set(IRCNumeric.allCases.map(\.rawValue)).count == IRCNumeric.allCases.count)
    }
}
