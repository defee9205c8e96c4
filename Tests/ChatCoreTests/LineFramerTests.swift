import Testing
@testable import ChatCore

/// Feeds chunks through a framer and collects what it reports, lines as strings.
private func frame(_ chunks: [[UInt8]], max: Int = 4096) -> [String] {
    var framer = LineFramer(maxLineBytes: max)
    var events: [String] = []
    for chunk in chunks {
        framer.feed(chunk) { event in
            switch event {
            case .line(let bytes): events.append(String(decoding: bytes, as: UTF8.self))
            case .overlong: events.append("<overlong>")
            case .invalidUTF8: events.append("<invalid>")
            case .telnetNegotiation(let verb, let option): events.append("<telnet \(verb) \(option)>")
            case .telnetCommand(let command): events.append("<telnet \(command)>")
            }
        }
    }
    return events
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct LineFramerTests {
    @Test func everyLineEndingEndsALine() {
        #expect(frame([bytes("a\nb\r\nc\rd\r\0e\n")]) == ["a", "b", "c", "d", "e"])
    }

    @Test func aLineSplitOverManyReadsIsJoined() {
        #expect(frame(bytes("hello world\n").map { [$0] }) == ["hello world"])
    }

    @Test func manyLinesInOneRead() {
        #expect(frame([bytes("1\n2\n3\n")]) == ["1", "2", "3"])
    }

    @Test func aCarriageReturnAtTheEndOfAReadIsRemembered() {
        #expect(frame([bytes("one\r"), bytes("\ntwo\r"), [0], bytes("three\n")]) == ["one", "two", "three"])
    }

    @Test func emptyLinesAreIgnored() {
        #expect(frame([bytes("\n\r\n\n\rx\n")]) == ["x"])
    }

    @Test func anOverlongLineIsDroppedWholeAndTheConnectionStaysUsable() {
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 100)
        #expect(frame([long, long, bytes("tail\nnext\n")], max: 64) == ["<overlong>", "next"])
    }

    @Test func aLineExactlyAtTheCapIsKept() {
        let exact = String(repeating: "b", count: 64)
        #expect(frame([bytes(exact + "\n")], max: 64) == [exact])
        #expect(frame([bytes(exact + "c\n")], max: 64) == ["<overlong>"])
    }

    @Test func invalidUTF8IsRejected() {
        #expect(frame([[0x61, 0xC3, 0x28, 0x0A], bytes("ok\n")]) == ["<invalid>", "ok"])
        #expect(frame([[0xC0, 0xAF, 0x0A]]) == ["<invalid>"])  // overlong encoding of "/"
        #expect(frame([[0xED, 0xA0, 0x80, 0x0A]]) == ["<invalid>"])  // UTF-16 surrogate
        #expect(frame([[0xF4, 0x90, 0x80, 0x80, 0x0A]]) == ["<invalid>"])  // above U+10FFFF
        #expect(frame([[0xE2, 0x82, 0x0A]]) == ["<invalid>"])  // truncated sequence
    }

    @Test func validUTF8PassesThrough() {
        #expect(frame([bytes("héllo wörld ✓ 𝄞\n")]) == ["héllo wörld ✓ 𝄞"])
    }

    @Test func controlCharactersAreRemovedButTabStays() {
        #expect(frame([bytes("\u{1B}[2Jred\u{7}\u{8}\u{7F}\tx\n")]) == ["[2Jred\tx"])
        #expect(frame([[0x61, 0x00, 0x62, 0x0A]]) == ["ab"])  // NUL inside a line
    }

    @Test func c1ControlsAreRemoved() {
        // U+009B is the single-byte CSI on terminals that honour C1.
        #expect(frame([bytes("a\u{9B}31mb\u{85}c\n")]) == ["a31mbc"])
    }

    @Test func telnetCommandsAreRemovedAndReported() {
        let input: [UInt8] = [0x68, 0xFF, 0xFD, 0x06, 0x69, 0xFF, 0xF4, 0x0A]
        #expect(frame([input]) == ["<telnet 253 6>", "<telnet 244>", "hi"])
    }

    @Test func telnetSubnegotiationIsSkipped() {
        let input: [UInt8] = [0xFF, 0xFA, 0x18, 0x00, 0x41, 0x4E, 0x53, 0x49, 0xFF, 0xF0] + bytes("ok\n")
        #expect(frame([input]) == ["ok"])
    }

    @Test func anUnterminatedSubnegotiationCannotSwallowTheConnection() {
        let junk: [UInt8] = [0xFF, 0xFA] + [UInt8](repeating: 0x41, count: LineFramer.maxSubnegotiationBytes)
        #expect(frame([junk + bytes("\nhello\n")]) == ["hello"])
    }

    @Test func aTelnetSequenceSplitAcrossReads() {
        #expect(frame([[0x61, 0xFF], [0xFB], [0x01, 0x62, 0x0A]]) == ["<telnet 251 1>", "ab"])
    }

    @Test func anEscapedIACMakesTheLineInvalid() {
        #expect(frame([[0x61, 0xFF, 0xFF, 0x0A]]) == ["<invalid>"])
    }

    @Test func partialLineIsReportedUntilItEnds() {
        var framer = LineFramer()
        framer.feed(bytes("abc")) { _ in }
        #expect(framer.hasPartialLine)
        framer.feed(bytes("\n")) { _ in }
        #expect(!framer.hasPartialLine)
    }
}
