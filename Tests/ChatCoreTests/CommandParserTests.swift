import Testing
@testable import ChatCore

private func parse(_ text: String) -> ParsedLine { CommandParser.parse(Array(text.utf8)) }
private func text(_ value: String) -> ArraySlice<UInt8> { ArraySlice(value.utf8) }

@Suite struct CommandParserTests {
    @Test func plainLinesAreSaidInTheCurrentRoom() {
        #expect(parse("hello").command == .say(text("hello")))
        #expect(parse(":)").command == .say(text(":)")))
        #expect(parse("//etc/passwd").command == .say(text("/etc/passwd")))
    }

    @Test func slashCommandsAreCaseInsensitive() {
        #expect(parse("/NICK Bob").command == .nick("Bob"))
        #expect(parse("/Join #dev").command == .join(room: "#dev"))
        #expect(parse("/join dev").command == .join(room: "#dev"))
    }

    @Test func everySlashCommand() {
        #expect(parse("/part").command == .part(room: nil, reason: nil))
        #expect(parse("/part #dev bye all").command == .part(room: "#dev", reason: "bye all"))
        #expect(parse("/say #dev hi there").command == .sayTo(room: "#dev", text: text("hi there")))
        #expect(parse("/me waves").command == .me(text("waves")))
        #expect(parse("/msg bob psst  two").command == .msg(to: "bob", text: text("psst  two")))
        #expect(parse("/rooms").command == .rooms)
        #expect(parse("/who").command == .who(room: nil))
        #expect(parse("/who #dev").command == .who(room: "#dev"))
        #expect(parse("/users").command == .users)
        #expect(parse("/topic #dev").command == .topic(room: "#dev", text: nil))
        #expect(parse("/topic #dev new topic").command == .topic(room: "#dev", text: "new topic"))
        #expect(parse("/away lunch").command == .away("lunch"))
        #expect(parse("/away").command == .away(nil))
        #expect(parse("/whois bob").command == .whois("bob"))
        #expect(parse("/ping 42").command == .ping("42"))
        #expect(parse("/quit gone fishing").command == .quit("gone fishing"))
        #expect(parse("/help").command == .help)
    }

    @Test func missingArgumentsAreUsageErrors() {
        for line in ["/nick", "/nick a b", "/join", "/say #dev", "/me", "/msg bob", "/whois", "/topic", "/rooms x"] {
            guard case .invalid(.usage, let message) = parse(line).command else {
                Issue.record("\(line) should be a usage error")
                continue
            }
            #expect(message.hasPrefix("usage: "))
        }
    }

    @Test func unknownCommandsAreErrorsNotChat() {
        guard case .invalid(.unknownCommand, let message) = parse("/frobnicate x").command else {
            Issue.record("expected UNKNOWN_COMMAND")
            return
        }
        #expect(message.contains("/frobnicate"))
    }

    @Test func colonAliasesMapToTheNativeCommands() {
        #expect(parse(":pm bob hi there").command == .msg(to: "bob", text: text("hi there")))
        #expect(parse(":users").command == .users)
        #expect(parse(":cr games").command == .join(room: "#games"))
        #expect(parse(":jr games").command == .join(room: "#games"))
        #expect(parse(":lr games").command == .part(room: "#games", reason: nil))
        #expect(parse(":lrs").command == .rooms)
        #expect(parse(":lru games").command == .who(room: "#games"))
        #expect(parse(":rm games hello").command == .sayTo(room: "#games", text: text("hello")))
        #expect(parse(":ping").command == .ping(nil))
        #expect(parse(":quit").command == .quit(nil))
    }

    @Test func seedProtocol() {
        func first(_ text: String) -> ParsedLine { CommandParser.parse(Array(text.utf8), context: .firstLine) }
        #expect(first("JOIN:alice") == ParsedLine(command: .nick("alice"), isSeedSyntax: true))
        #expect(first("SAY::hello: world") == ParsedLine(command: .say(text("hello: world")), isSeedSyntax: true))
        #expect(first("SAY:mallory:hi").command == .say(text("hi")))
        #expect(first("LEAVE:bye") == ParsedLine(command: .quit("bye"), isSeedSyntax: true))
        #expect(first("SAYING hi").isSeedSyntax == false)
        let seed = CommandParser.parse(Array("LEAVE:later".utf8), context: .seed)
        #expect(seed == ParsedLine(command: .quit("later"), isSeedSyntax: true), "commands for the rest of a seed connection")
    }

    @Test func seedWordsAreChatOnANativeConnection() {
        for line in ["LEAVE: brb", "JOIN:carol", "SAY:note to self: buy milk"] {
            #expect(parse(line) == ParsedLine(command: .say(text(line)), isSeedSyntax: false), "\(line)")
            #expect(CommandParser.parse(Array(line.utf8), context: .native).command == .say(text(line)))
        }
        #expect(parse("/quit").command == .quit(nil), "native commands are unaffected")
    }
}
