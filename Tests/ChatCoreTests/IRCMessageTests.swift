import Testing
@testable import ChatCore

/// The IRC parser and serializer: the shapes of modern.ircdocs.horse's examples, its bounds,
/// and hostile input that must never trap.
@Suite struct IRCMessageTests {
    private func parse(_ text: String) -> IRCMessage.Parsed { IRCMessage.parse(Array(text.utf8)) }

    private func message(_ text: String) -> IRCMessage? {
        if case .message(let message) = parse(text) { return message }
        return nil
    }

    @Test func parsesCommandParamsAndTrailing() {
        let privmsg = message("PRIVMSG #dev :hello there")
        #expect(privmsg == IRCMessage("PRIVMSG", ["#dev", "hello there"]))
        #expect(message("privmsg #dev hi")?.command == "PRIVMSG", "commands are case-insensitive")
        #expect(message("NICK alice")?.params == ["alice"])
        #expect(message("USER alice 0 * :Alice Liddell")?.params == ["alice", "0", "*", "Alice Liddell"])
        #expect(message("PRIVMSG #dev ::-)")?.params == ["#dev", ":-)"])
        #expect(message("TOPIC #dev :")?.params == ["#dev", ""])
        #expect(message("CAP   LS    302")?.params == ["LS", "302"], "repeated spaces separate, they are not parameters")
        #expect(message("QUIT")?.params == [])
    }

    @Test func parsesSourceAndTags() {
        let tagged = message("@time=2026-12-03T12:00:00.000Z;+draft/reply=abc;flag :alice!a@h PRIVMSG #dev :hi")
        #expect(tagged?.source == "alice!a@h")
        #expect(tagged?.tag("time") == "2026-12-03T12:00:00.000Z")
        #expect(tagged?.tag("+draft/reply") == "abc")
        #expect(tagged?.tag("flag") == "")
        #expect(tagged?.params == ["#dev", "hi"])
        #expect(message(#"@k=a\:b\sc\\d\ PING x"#)?.tag("k") == "a;b c\\d")
    }

    @Test func fifteenthParameterTakesTheRest() {
        let words = (1...20).map(String.init).joined(separator: " ")
        let parsed = message("X " + words)
        #expect(parsed?.params.count == IRCMessage.maxParameters)
        #expect(parsed?.params.last == (15...20).map(String.init).joined(separator: " "))
    }

    @Test func emptyLinesAreIgnored() {
        #expect(parse("") == .empty)
        #expect(parse("     ") == .empty)
        #expect(parse("@a=b") == .empty)
        #expect(parse(":source") == .empty)
        #expect(parse(":source   ") == .empty)
    }

    @Test func boundsAre512ForTheBodyAnd8191ForTags() {
        let body510 = "PRIVMSG #dev :" + String(repeating: "x", count: 510 - 14)
        #expect(body510.utf8.count == 510)
        #expect(message(body510) != nil, "510 bytes plus CR LF is exactly 512")
        #expect(parse(body510 + "x") == .tooLong)
        let tags = "@" + String(repeating: "t", count: IRCMessage.maxTagBytes - 2) + " "
        #expect(message(tags + body510) != nil, "8191 bytes of tags do not count against the body")
        #expect(parse("@" + String(repeating: "t", count: IRCMessage.maxTagBytes - 1) + " PING x") == .tooLong)
        #expect(parse(String(repeating: "A", count: 100_000)) == .tooLong)
    }

    @Test func hostileInputNeverTraps() {
        var generator = IRCFuzzGenerator(seed: 16)
        let alphabet: [UInt8] = Array("@:; =\\#!*+ABCPRIVMSG0123".utf8) + [0x00, 0x01, 0xFF, 0x0D]
        for _ in 0..<5_000 {
            let length = Int(generator.next() % 700)
            let bytes = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            let parsed = IRCMessage.parse(bytes)
            if case .message(let message) = parsed {
                #expect(!message.command.isEmpty)
                #expect(message.params.count <= IRCMessage.maxParameters)
                _ = message.bytes
            }
        }
    }

    @Test func serializesWithColonOnlyWhenNeeded() {
        #expect(String(decoding: IRCMessage("PRIVMSG", ["#dev", "hi"]).bytes, as: UTF8.self) == "PRIVMSG #dev hi\r\n")
        #expect(String(decoding: IRCMessage(source: "chatd", "001", ["alice", "Welcome home"]).bytes, as: UTF8.self) == ":chatd 001 alice :Welcome home\r\n")
        #expect(String(decoding: IRCMessage("TOPIC", ["#dev", ""]).bytes, as: UTF8.self) == "TOPIC #dev :\r\n")
        #expect(String(decoding: IRCMessage("X", [":-)"]).bytes, as: UTF8.self) == "X ::-)\r\n")
        let tagged = IRCMessage(tags: [.init("time", "a b;c")], "PING", ["x"])
        #expect(String(decoding: tagged.bytes, as: UTF8.self) == #"@time=a\sb\:c PING x"# + "\r\n")
    }

    @Test func serializerCannotBeMadeToForgeLines() {
        let evil = IRCMessage(source: "a b", "PRIVMSG", ["#dev x", "hi\r\nQUIT :gone\u{0}"])
        let text = String(decoding: evil.bytes, as: UTF8.self)
        #expect(text == ":ab PRIVMSG #devx :hiQUIT :gone\r\n")
        #expect(String(decoding: IRCMessage("X", ["", "y"]).bytes, as: UTF8.self) == "X * y\r\n")
    }

    @Test func roundTrips() {
        let original = IRCMessage(tags: [.init("time", "2026-12-03T12:00:00.000Z")], source: "alice!alice@chatd", "PRIVMSG", ["#dev", "hello :) there"])
        #expect(IRCMessage.parse(original.bytes.dropLast(2)) == .message(original))
    }

    @Test func base64DecodesSASLPayloads() {
        #expect(Base64.decode(Array("AGFsaWNlAHNlY3JldA==".utf8)) == Array("\0alice\0secret".utf8))
        #expect(Base64.encode(Array("\0alice\0secret".utf8)) == "AGFsaWNlAHNlY3JldA==")
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            #expect(Base64.decode(Array(Base64.encode(Array(text.utf8)).utf8)) == Array(text.utf8))
        }
        #expect(Base64.decode(Array("abc".utf8)) == nil)
        #expect(Base64.decode(Array("ab=c".utf8)) == nil)
        #expect(Base64.decode(Array("a===".utf8)) == nil)
        #expect(Base64.decode(Array("ab!c".utf8)) == nil)
    }
}

/// A small deterministic generator for the fuzz loop (tests must not depend on luck).
struct IRCFuzzGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
