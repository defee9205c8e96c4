import Testing
@testable import ChatCore

private func clean(_ chunks: [[UInt8]]) -> [UInt8] {
    var sanitizer = TerminalSanitizer()
    var out: [UInt8] = []
    for chunk in chunks { sanitizer.feed(chunk, into: &out) }
    return out
}

private func clean(_ text: String) -> String { String(decoding: clean([Array(text.utf8)]), as: UTF8.self) }

/// What `chatd client` prints of a server's bytes: nothing a terminal would act on.
@Suite struct TerminalSanitizerTests {
    @Test func plainTextTabsAndNewlinesPass() {
        #expect(clean("#lobby <alice> héllo\twörld 🎉\n") == "#lobby <alice> héllo\twörld 🎉\n")
    }

    @Test func escapeSequencesAreDroppedWhole() {
        #expect(clean("\u{1b}]0;pwned\u{07}title\n") == "title\n")
        #expect(clean("\u{1b}]0;pwned\u{1b}\\title\n") == "title\n", "OSC ended by ST")
        #expect(clean("\u{1b}[2Jcleared\n") == "cleared\n")
        #expect(clean("\u{1b}[38;5;196mred\u{1b}[0m\n") == "red\n")
        #expect(clean("\u{1b}Pq#0;2;0;0;0\u{1b}\\after\n") == "after\n", "DCS")
        #expect(clean("\u{1b}(0x\u{1b}(By\n") == "xy\n", "charset designations")
        #expect(clean("\u{1b}cz\n") == "z\n", "two-byte ESC c (reset)")
        #expect(clean("\u{1b}]0;never ended\nnext line\n") == "\nnext line\n", "a newline ends a stray string command")
    }

    @Test func c1FormsAreTreatedLikeTheirEscapeForms() {
        #expect(clean("\u{9b}31mred\n") == "red\n", "C1 CSI")
        #expect(clean("\u{9d}0;t\u{9c}ok\n") == "ok\n", "C1 OSC ended by C1 ST")
        #expect(clean("a\u{85}b\u{80}c\n") == "abc\n", "other C1 controls")
    }

    @Test func controlBytesAreDroppedExceptTabAndNewline() {
        let every = (0..<0x20).map { UInt8($0) } + [0x7F]
        #expect(clean([[0x61] + every.filter { $0 != 0x1B } + [0x62]]) == [0x61, 0x09, 0x0A, 0x62])
        #expect(clean("forged\rreal\n") == "forgedreal\n", "no carriage return to overwrite a line")
    }

    @Test func invalidUTF8BecomesTheReplacementCharacter() {
        #expect(clean([[0x62, 0x61, 0x64, 0xFF, 0x0A]]) == Array("bad\u{FFFD}\n".utf8))
        #expect(clean([[0xC0, 0xAF]]) == Array("\u{FFFD}\u{FFFD}".utf8), "overlong")
        #expect(clean([[0xED, 0xA0, 0x80]]) == Array("\u{FFFD}\u{FFFD}\u{FFFD}".utf8), "surrogate")
        #expect(clean([[0xE2, 0x82, 0x41]]) == Array("\u{FFFD}A".utf8), "cut short")
    }

    @Test func sequencesAndCharactersSplitAcrossReadsAreHandled() {
        let bytes = Array("a\u{1b}]0;pwned\u{07}é🎉\u{1b}[2Jb\n".utf8)
        for split in 1..<bytes.count {
            #expect(clean([Array(bytes[..<split]), Array(bytes[split...])]) == Array("aé🎉b\n".utf8), "split at \(split)")
        }
        #expect(clean(bytes.map { [$0] }) == Array("aé🎉b\n".utf8), "one byte at a time")
    }
}
