/// One line from a client, understood. Parsing is pure and never fails: a line that is not a
/// well-formed command becomes `.invalid` with the error to send back.
public enum Command: Equatable, Sendable {
    /// A plain line: say it in the current room. Carries the line's own bytes (no copy). Not a
    /// table entry: it is the hot path, and has no word.
    case say(ArraySlice<UInt8>)
    /// A command of the table, with its arguments parsed.
    case run(Invocation)
    case invalid(ErrorCode, String)
}

/// A parsed line plus whether it used the seed protocol's syntax (`JOIN:`, `SAY:`, `LEAVE:`),
/// which on a connection's first line selects the seed wire style.
public struct ParsedLine: Equatable, Sendable {
    public var command: Command
    public var isSeedSyntax: Bool
}

/// The line grammar. Three spellings reach the table's commands: `/word args` (native, read
/// by each entry's parameters), `:alias args` (the tokio chat server's colon aliases) and the
/// seed protocol's `VERB:args`; the last two map their own syntax onto the same entries.
public enum CommandParser {
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

    /// Parses with the standard table.
    public static func parse(_ line: [UInt8], context: Context = .native) -> ParsedLine {
        parse(line, context: context, table: .standard)
    }

    static func parse(_ line: [UInt8], context: Context, table: CommandTable) -> ParsedLine {
        guard let first = line.first else { return ParsedLine(command: .say(line[...]), isSeedSyntax: false) }
        if first == UInt8(ascii: "/") {
            if line.count > 1 && line[1] == UInt8(ascii: "/") {
                return ParsedLine(command: .say(line[1...]), isSeedSyntax: false)
            }
            let text = String(decoding: line.dropFirst(), as: UTF8.self)
            let (word, rest) = splitWord(Substring(text))
            return ParsedLine(command: table.parseNative(word: word, rest: rest), isSeedSyntax: false)
        }
        if first == UInt8(ascii: ":") {
            let text = String(decoding: line.dropFirst(), as: UTF8.self)
            let (word, rest) = splitWord(Substring(text))
            if let alias = ColonAlias.all[word.lowercased()], let command = alias.parse(rest, word: word.lowercased(), table: table) {
                return ParsedLine(command: command, isSeedSyntax: false)
            }
            return ParsedLine(command: .say(line[...]), isSeedSyntax: false)  // ":)" is chat.
        }
        if context != .native, first == UInt8(ascii: "J") || first == UInt8(ascii: "S") || first == UInt8(ascii: "L"),
           let seed = parseSeed(line, table: table) {
            return ParsedLine(command: seed, isSeedSyntax: true)
        }
        return ParsedLine(command: .say(line[...]), isSeedSyntax: false)
    }

    /// `JOIN:<name>`, `SAY:<from>:<text>` (the from-field is ignored: the server knows who is
    /// speaking, so nobody can speak as someone else) and `LEAVE:<reason>`.
    private static func parseSeed(_ line: [UInt8], table: CommandTable) -> Command? {
        func hasPrefix(_ prefix: String) -> Bool { line.starts(with: prefix.utf8) }
        if hasPrefix("JOIN:") {
            let name = String(decoding: line.dropFirst(5), as: UTF8.self)
            if name.isEmpty { return usage("JOIN:<name>") }
            return table.invocation("nick", [.text(name)]).map(Command.run)
        }
        if hasPrefix("SAY:") {
            let payload = line.dropFirst(4)
            let text = payload.firstIndex(of: UInt8(ascii: ":")).map { payload[($0 + 1)...] } ?? payload
            return text.isEmpty ? usage("SAY::<text>") : .say(text)
        }
        if hasPrefix("LEAVE:") {
            let reason = String(decoding: line.dropFirst(6), as: UTF8.self)
            return table.invocation("quit", [reason.isEmpty ? .absent : .text(reason)]).map(Command.run)
        }
        return nil
    }

    static func splitWord(_ text: Substring) -> (Substring, Substring) {
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return (trimmed, "") }
        return (trimmed[..<space], trimmed[space...].drop { $0 == " " || $0 == "\t" })
    }

    static func usage(_ text: String) -> Command { .invalid(.usage, "usage: \(text)") }
}

/// The tokio chat server's colon commands: each names a table entry and reads its own,
/// shorter argument shape into that entry's first slots.
struct ColonAlias: Sendable {
    let entry: String
    let parameters: [Parameter]
    let ignoresExtra: Bool

    init(_ entry: String, _ parameters: [Parameter] = [], ignoresExtra: Bool = false) {
        self.entry = entry
        self.parameters = parameters
        self.ignoresExtra = ignoresExtra
    }

    static let all: [String: ColonAlias] = [
        "pm": ColonAlias("msg", [.word("USER"), .message("MESSAGE")]),
        "users": ColonAlias("users", ignoresExtra: true),
        "cr": ColonAlias("join", [Parameter(name: "ROOM", kind: .room, isOptional: false)]),
        "jr": ColonAlias("join", [Parameter(name: "ROOM", kind: .room, isOptional: false)]),
        "lr": ColonAlias("part", [Parameter(name: "ROOM", kind: .room, isOptional: false)]),
        "lrs": ColonAlias("rooms", ignoresExtra: true),
        "lru": ColonAlias("who", [Parameter(name: "ROOM", kind: .room, isOptional: false)]),
        "rm": ColonAlias("sayTo", [Parameter(name: "ROOM", kind: .room, isOptional: false), .message("MESSAGE")]),
        "ping": ColonAlias("ping", [.optionalText("token")]),
        "quit": ColonAlias("quit", [.optionalText("reason")]),
    ]

    /// The command, or nil when the table has no such entry (a table without it).
    func parse(_ rest: Substring, word: String, table: CommandTable) -> Command? {
        guard let index = table.index(of: entry) else { return nil }
        let slots = table.entries[index].parameters.count
        return parameters.parse(rest, usage: parameters.usage(command: ":" + word), ignoresExtra: ignoresExtra) { parsed in
            let filled = parsed.values + Array(repeating: CommandArgument.absent, count: max(0, slots - parsed.values.count))
            return .run(Invocation(entry: index, arguments: Arguments(filled)))
        }
    }
}
