/// One line from a client, understood. Parsing is pure and never fails: a line that is not a
/// well-formed command becomes `.invalid` with the error to send back.
public enum Command: Equatable, Sendable {
    /// A plain line: say it in the current room. Carries the line's own bytes (no copy).
    case say(ArraySlice<UInt8>)
    case sayTo(room: String, text: ArraySlice<UInt8>)
    case nick(String)
    case join(room: String, key: String? = nil)
    case part(room: String?, reason: String?)
    case rooms
    case who(room: String?)
    case users
    case topic(room: String, text: String?)
    case msg(to: String, text: ArraySlice<UInt8>)
    case me(ArraySlice<UInt8>)
    case away(String?)
    case whois(String)
    case ping(String?)
    case quit(String?)
    case help
    /// `/history [#room] [n]`.
    case history(room: String?, count: Int?)
    case pass([UInt8])
    case register(name: String, password: [UInt8])
    case login(name: String, password: [UInt8])
    case passwd(old: [UInt8], new: [UInt8])
    case logout
    case key(room: String, key: String?)
    case kick(room: String, name: String, reason: String?)
    case roomBan(room: String, name: String)
    case roomUnban(room: String, name: String)
    case owner(room: String, name: String)
    case announce(String)
    case kill(name: String, reason: String?)
    case ban(target: String, seconds: Double?)
    case unban(target: String)
    case stats
    case invalid(ErrorCode, String)
}

/// A parsed line plus whether it used the seed protocol's syntax (`JOIN:`, `SAY:`, `LEAVE:`),
/// which on a connection's first line selects the seed wire style.
public struct ParsedLine: Equatable, Sendable {
    public var command: Command
    public var isSeedSyntax: Bool
}

/// The command grammar. Three spellings reach the same commands: `/word args` (native),
/// `:alias args` (the tokio chat server's colon aliases) and the seed protocol's `VERB:args`.
public enum CommandParser {
    /// Usage and one-line description of every native command, in `/help` order.
    public static let help: [(usage: String, summary: String)] = [
        ("/nick NAME", "choose your name (1-30 of A-Z a-z 0-9 _-.[]{}^|, starting with a letter)"),
        ("/join #room", "join a room (created on first join) and make it current"),
        ("/part [#room] [reason]", "leave a room (default: the current one)"),
        ("/say #room text", "say something in a room other than the current one"),
        ("/me action", "describe an action in the current room"),
        ("/msg NAME text", "send a private message"),
        ("/rooms", "list rooms with member counts and topics"),
        ("/who [#room]", "list a room's members (default: the current room)"),
        ("/users", "list everyone online"),
        ("/topic #room [text]", "show or set a room's topic"),
        ("/away [text]", "mark yourself away (no text: back again)"),
        ("/whois NAME", "show who someone is"),
        ("/ping [token]", "the server answers OK pong with the same token"),
        ("/history [#room] [n]", "show a room's latest lines again (marked HISTORY, with UTC times)"),
        ("/quit [reason]", "say goodbye and disconnect"),
        ("/help", "this list"),
        ("//text", "say a line that starts with a slash"),
    ]

    private static let colonAliases: Set<String> = ["pm", "users", "cr", "jr", "lr", "lrs", "lru", "rm", "ping", "quit"]

    /// What the connection chose, which decides whether seed words (`JOIN:`, `SAY:`, `LEAVE:`)
    /// are commands. The seed protocol is chosen by a connection's first line only, so on a
    /// native connection `LEAVE: brb` or `SAY:note to self: buy milk` is ordinary chat.
    public enum Context: Sendable {
        /// The connection's first line: seed words are commands and choose the seed protocol.
        case firstLine
        /// A connection whose first line was not a seed word: seed words are chat.
        case native
        /// A connection that chose the seed protocol: seed words are commands.
        case seed
    }

    public static func parse(_ line: [UInt8], context: Context = .native) -> ParsedLine {
        guard let first = line.first else { return ParsedLine(command: .say(line[...]), isSeedSyntax: false) }
        if first == UInt8(ascii: "/") {
            if line.count > 1 && line[1] == UInt8(ascii: "/") {
                return ParsedLine(command: .say(line[1...]), isSeedSyntax: false)
            }
            return ParsedLine(command: parseSlash(String(decoding: line.dropFirst(), as: UTF8.self)), isSeedSyntax: false)
        }
        if first == UInt8(ascii: ":") {
            let text = String(decoding: line.dropFirst(), as: UTF8.self)
            let (word, _) = splitWord(Substring(text))
            if colonAliases.contains(word.lowercased()) {
                return ParsedLine(command: parseColon(text), isSeedSyntax: false)
            }
            return ParsedLine(command: .say(line[...]), isSeedSyntax: false)  // ":)" is chat.
        }
        if context != .native, first == UInt8(ascii: "J") || first == UInt8(ascii: "S") || first == UInt8(ascii: "L"),
           let seed = parseSeed(line) {
            return ParsedLine(command: seed, isSeedSyntax: true)
        }
        return ParsedLine(command: .say(line[...]), isSeedSyntax: false)
    }

    private static func parseSlash(_ text: String) -> Command {
        let (word, rest) = splitWord(Substring(text))
        let name = word.lowercased()
        switch name {
        case "nick": return oneWord(rest, usage: "/nick NAME") { .nick(String($0)) }
        case "join":
            let (room, rest) = splitWord(rest)
            let (key, extra) = splitWord(rest)
            guard !room.isEmpty, extra.isEmpty else { return usage("/join #room [KEY]") }
            return .join(room: NameRules.roomName(room), key: key.isEmpty ? nil : String(key))
        case "part":
            if rest.isEmpty { return .part(room: nil, reason: nil) }
            let (room, reason) = splitWord(rest)
            guard room.hasPrefix("#") else { return .part(room: nil, reason: String(rest)) }
            return .part(room: String(room), reason: reason.isEmpty ? nil : String(reason))
        case "say":
            let (room, message) = splitWord(rest)
            guard !room.isEmpty, !message.isEmpty else { return usage("/say #room text") }
            return .sayTo(room: NameRules.roomName(room), text: bytes(message))
        case "me":
            guard !rest.isEmpty else { return usage("/me action") }
            return .me(bytes(rest))
        case "msg", "query", "tell":
            let (to, message) = splitWord(rest)
            guard !to.isEmpty, !message.isEmpty else { return usage("/msg NAME text") }
            return .msg(to: String(to), text: bytes(message))
        case "rooms", "list": return noArguments(rest, .rooms, usage: "/rooms")
        case "who":
            if rest.isEmpty { return .who(room: nil) }
            return oneWord(rest, usage: "/who [#room]") { .who(room: NameRules.roomName($0)) }
        case "users": return noArguments(rest, .users, usage: "/users")
        case "topic":
            let (room, topic) = splitWord(rest)
            guard !room.isEmpty else { return usage("/topic #room [text]") }
            return .topic(room: NameRules.roomName(room), text: topic.isEmpty ? nil : String(topic))
        case "away": return .away(rest.isEmpty ? nil : String(rest))
        case "whois": return oneWord(rest, usage: "/whois NAME") { .whois(String($0)) }
        case "ping": return .ping(rest.isEmpty ? nil : String(rest))
        case "quit", "exit": return .quit(rest.isEmpty ? nil : String(rest))
        case "help": return .help
        case "history": return parseHistory(rest)
        default:
            if let command = parseAccountCommand(name, rest) { return command }
            let shown = Sanitizer.printable(word.prefix(32))
            return .invalid(.unknownCommand, "unknown command \"/\(shown)\"; type /help for the list")
        }
    }

    /// The tokio chat server's colon commands, mapped onto the native ones.
    private static func parseColon(_ text: String) -> Command {
        let (word, rest) = splitWord(Substring(text))
        switch word.lowercased() {
        case "pm":
            let (to, message) = splitWord(rest)
            guard !to.isEmpty, !message.isEmpty else { return usage(":pm USER MESSAGE") }
            return .msg(to: String(to), text: bytes(message))
        case "users": return .users
        case "cr", "jr": return oneWord(rest, usage: ":\(word.lowercased()) ROOM") { .join(room: NameRules.roomName($0)) }
        case "lr": return oneWord(rest, usage: ":lr ROOM") { .part(room: NameRules.roomName($0), reason: nil) }
        case "lrs": return .rooms
        case "lru": return oneWord(rest, usage: ":lru ROOM") { .who(room: NameRules.roomName($0)) }
        case "rm":
            let (room, message) = splitWord(rest)
            guard !room.isEmpty, !message.isEmpty else { return usage(":rm ROOM MESSAGE") }
            return .sayTo(room: NameRules.roomName(room), text: bytes(message))
        case "ping": return .ping(rest.isEmpty ? nil : String(rest))
        default: return .quit(rest.isEmpty ? nil : String(rest))  // "quit": the only alias left.
        }
    }

    /// `JOIN:<name>`, `SAY:<from>:<text>` (the from-field is ignored: the server knows who is
    /// speaking, so nobody can speak as someone else) and `LEAVE:<reason>`.
    private static func parseSeed(_ line: [UInt8]) -> Command? {
        func hasPrefix(_ prefix: String) -> Bool { line.starts(with: prefix.utf8) }
        if hasPrefix("JOIN:") {
            let name = String(decoding: line.dropFirst(5), as: UTF8.self)
            return name.isEmpty ? usage("JOIN:<name>") : .nick(name)
        }
        if hasPrefix("SAY:") {
            let payload = line.dropFirst(4)
            let text = payload.firstIndex(of: UInt8(ascii: ":")).map { payload[($0 + 1)...] } ?? payload
            return text.isEmpty ? usage("SAY::<text>") : .say(text)
        }
        if hasPrefix("LEAVE:") {
            let reason = String(decoding: line.dropFirst(6), as: UTF8.self)
            return .quit(reason.isEmpty ? nil : reason)
        }
        return nil
    }

    /// `/history`, `/history 50`, `/history #room`, `/history #room 50`.
    private static func parseHistory(_ rest: Substring) -> Command {
        let (first, second) = splitWord(rest)
        let (third, extra) = splitWord(second)
        let usage = usage("/history [#room] [n]")
        guard extra.isEmpty else { return usage }
        if first.isEmpty { return .history(room: nil, count: nil) }
        if first.hasPrefix("#") {
            if third.isEmpty { return .history(room: NameRules.roomName(first), count: nil) }
            guard let count = Int(third) else { return usage }
            return .history(room: NameRules.roomName(first), count: count)
        }
        guard third.isEmpty, let count = Int(first) else { return usage }
        return .history(room: nil, count: count)
    }

    static func splitWord(_ text: Substring) -> (Substring, Substring) {
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return (trimmed, "") }
        return (trimmed[..<space], trimmed[space...].drop { $0 == " " || $0 == "\t" })
    }

    static func oneWord(_ rest: Substring, usage text: String, _ make: (Substring) -> Command) -> Command {
        let (word, extra) = splitWord(rest)
        guard !word.isEmpty, extra.isEmpty else { return usage(text) }
        return make(word)
    }

    static func noArguments(_ rest: Substring, _ command: Command, usage text: String) -> Command {
        rest.isEmpty ? command : usage(text)
    }

    static func usage(_ text: String) -> Command { .invalid(.usage, "usage: \(text)") }

    private static func bytes(_ text: Substring) -> ArraySlice<UInt8> { ArraySlice(text.utf8) }
}
