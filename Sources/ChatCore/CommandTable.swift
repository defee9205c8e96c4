/// Every command the server knows, as data (Redis's `redisCommandTable`, ngircd's `parse.c`):
/// its words, argument shape, help, permission and handler. Parsing, `/help`, the permission
/// check and execution all read this table, so adding a command is one entry plus its handler.
///
/// A handler takes parsed `Arguments`, never raw text: another syntax (the colon aliases, the
/// seed protocol, IRC later) maps its own spelling onto the same entries and the same slots.
struct CommandTable: Sendable {
    let entries: [CommandEntry]
    /// Entry indexes by lower-case word (name or alias), in table order: one word may name
    /// several entries told apart by their first argument (`/ban #room NAME`, `/ban ADDRESS`).
    private let byWord: [String: [Int]]
    private let byID: [String: Int]

    init(_ entries: [CommandEntry]) {
        self.entries = entries
        var byWord: [String: [Int]] = [:]
        var byID: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            precondition(byID[entry.id] == nil, "two commands with the id \(entry.id)")
            byID[entry.id] = index
            for word in entry.words { byWord[word, default: []].append(index) }
        }
        self.byWord = byWord
        self.byID = byID
    }

    /// The table chatd serves. Order is `/help` order within each help group.
    static let standard = CommandTable(
        IdentityCommands.entries + RoomCommands.entries + TalkCommands.entries + HistoryCommands.entries
            + SessionCommands.entries + AccountCommands.entries + OwnerCommands.entries + OperatorCommands.entries)

    /// A table with `extra` entries after these (a protocol's or a test's own commands).
    func adding(_ extra: [CommandEntry]) -> CommandTable { CommandTable(entries + extra) }

    func entry(_ invocation: Invocation) -> CommandEntry { entries[invocation.entry] }

    /// The entry with this `id`, for another syntax mapping onto it.
    func index(of id: String) -> Int? { byID[id] }

    /// An invocation of the entry `id` with arguments already parsed by another syntax; nil
    /// when this table has no such entry.
    func invocation(_ id: String, _ values: [CommandArgument]) -> Invocation? {
        byID[id].map { Invocation(entry: $0, arguments: Arguments(values)) }
    }

    /// `/word rest`: the entry the word names whose first argument fits, its arguments parsed.
    func parseNative(word: Substring, rest: Substring) -> Command {
        let name = word.lowercased()
        guard let candidates = byWord[name] else {
            let shown = Sanitizer.printable(word.prefix(32))
            return .invalid(.unknownCommand, "unknown command \"/\(shown)\"; type /help for the list")
        }
        let chosen = candidates.first { entries[$0].accepts(firstWordOf: rest) } ?? candidates[candidates.count - 1]
        let entry = entries[chosen]
        return entry.parameters.parse(rest, usage: entry.usage, ignoresExtra: entry.ignoresExtraArguments) {
            .run(Invocation(entry: chosen, arguments: $0))
        }
    }

    /// `/help`, in order: the everyday commands, how to say a line starting with a slash, then
    /// accounts, room protection and operators.
    var helpLines: [(usage: String, summary: String)] {
        let shown = entries.filter { $0.summary != nil }
        func lines(_ group: CommandEntry.HelpGroup) -> [(usage: String, summary: String)] {
            shown.filter { $0.helpGroup == group }.map { ($0.usage, $0.summary ?? "") }
        }
        return lines(.everyday) + [("//text", "say a line that starts with a slash")] + lines(.more)
    }
}

/// One command: the words that name it, what it takes, who may run it and what runs it.
struct CommandEntry: Sendable {
    enum HelpGroup: Sendable {
        case everyday
        /// Accounts, room protection and operators: listed after the everyday commands.
        case more
    }

    /// Unique in the table; other syntaxes name the entry by it.
    let id: String
    /// The slash word first (shown in usage and help), then its aliases; lower case.
    let words: [String]
    let parameters: [Parameter]
    /// Who may run it; checked before the handler runs (see `CommandPermission`).
    let permission: CommandPermission
    /// The `/help` line; nil keeps the command out of the list (`/unban`, told of by `/ban`).
    let summary: String?
    let helpGroup: HelpGroup
    /// Extra words are ignored rather than a usage error (`/help`).
    let ignoresExtraArguments: Bool
    let handler: @Sendable (Hub, Request) -> Void

    init(_ id: String, words: [String]? = nil, _ parameters: [Parameter] = [], permission: CommandPermission = .admitted,
         help summary: String?, group: HelpGroup = .everyday, ignoresExtraArguments: Bool = false,
         handler: @escaping @Sendable (Hub, Request) -> Void) {
        self.id = id
        self.words = words ?? [id]
        self.parameters = parameters
        self.permission = permission
        self.summary = summary
        self.helpGroup = group
        self.ignoresExtraArguments = ignoresExtraArguments
        self.handler = handler
    }

    /// `/word PARAM [OPTIONAL]`, made from the parameters so usage and shape cannot disagree.
    var usage: String { parameters.usage(command: "/" + words[0]) }

    /// Whether `rest` starts the way this entry's first parameter needs (`#room` or not), for
    /// words shared by two entries.
    func accepts(firstWordOf rest: Substring) -> Bool {
        guard let first = parameters.first, first.kind == .hashRoom, !first.isOptional else { return true }
        return CommandParser.splitWord(rest).0.hasPrefix("#")
    }
}

/// Who may run a command, whatever its arguments. The hub checks it in one place before any
/// handler runs; rules that depend on the arguments (`/topic` in a room with an owner, an
/// operator's password, a room's key) stay in the handlers.
enum CommandPermission: Sendable {
    /// Anyone, even a client that has not given the server password yet.
    case beforePassword
    /// A client past the server password.
    case admitted
    /// The owner of the room named by the first argument, or an operator; the handler gets
    /// the room resolved (`Request.room`).
    case roomOwner
    /// A server operator.
    case serverOperator
}

/// What a handler is given: who asked, the parsed arguments, and for a `.roomOwner` command
/// the room the check resolved.
struct Request {
    let client: ClientID
    let arguments: Arguments
    let room: Int?
}

/// A parsed command ready to run: which table entry, with which arguments.
public struct Invocation: Equatable, Sendable {
    let entry: Int
    let arguments: Arguments
}
