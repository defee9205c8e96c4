/// How one connection wants lines rendered: a per-connection strategy, so the hub has a single
/// code path and only the final bytes differ.
///
/// `.native` (documented in the README):
///
///     #lobby <alice> hello            chat in a room
///     #lobby * alice waves            /me
///     PM <alice> psst                 a private message to you
///     *** alice joined #lobby         a notice
///     OK nick alice                   a reply (multi-line replies use "OK-" on all but the last)
///     ERROR NICK_IN_USE: the name "bob" is taken
///
/// `.seed` is the newline protocol of the original Rust tcp-chat, chosen by a connection whose
/// first line is `JOIN:`, `SAY:` or `LEAVE:`: `SAY:<from>:<text>`, `JOIN:<name>`,
/// `LEAVE:<name>`, `SERVER:<text>`, `ERROR:<text>`.
public enum WireStyle: UInt8, Sendable, CaseIterable {
    case native
    case seed

    /// Appends the rendering of `message`, newline included, to `out`.
    public func render(_ message: Outgoing, into out: inout [UInt8]) {
        switch self {
        case .native: renderNative(message, into: &out)
        case .seed: renderSeed(message, into: &out)
        }
    }

    private func renderNative(_ message: Outgoing, into out: inout [UInt8]) {
        switch message {
        case .chat(let room, let from, let text):
            out.append(contentsOf: room.utf8)
            out.append(contentsOf: " <".utf8)
            out.append(contentsOf: from.utf8)
            out.append(contentsOf: "> ".utf8)
            out.append(contentsOf: text)
        case .action(let room, let from, let text):
            out.append(contentsOf: room.utf8)
            out.append(contentsOf: " * ".utf8)
            out.append(contentsOf: from.utf8)
            out.append(0x20)
            out.append(contentsOf: text)
        case .privateMessage(let from, let text):
            out.append(contentsOf: "PM <".utf8)
            out.append(contentsOf: from.utf8)
            out.append(contentsOf: "> ".utf8)
            out.append(contentsOf: text)
        case .notice(let notice):
            out.append(contentsOf: "*** ".utf8)
            out.append(contentsOf: Self.nativeText(of: notice).utf8)
        case .history(let entry):
            out.append(contentsOf: "HISTORY ".utf8)
            out.append(contentsOf: entry.room.utf8)
            out.append(0x20)
            Self.appendHistoryBody(entry, into: &out)
        case .reply(let command, let text, let final):
            Self.appendReply(prefix: final ? "OK " : "OK-", command, text, into: &out)
        case .error(let code, let text):
            Self.appendError(prefix: "ERROR ", code, text, into: &out)
        case .raw(let bytes):
            out.append(contentsOf: bytes)
            return
        }
        out.append(0x0A)
    }

    private func renderSeed(_ message: Outgoing, into out: inout [UInt8]) {
        switch message {
        case .chat(_, let from, let text):
            out.append(contentsOf: "SAY:".utf8)
            out.append(contentsOf: from.utf8)
            out.append(0x3A)
            out.append(contentsOf: text)
        case .action(_, let from, let text):
            out.append(contentsOf: "SAY:".utf8)
            out.append(contentsOf: from.utf8)
            out.append(contentsOf: ":* ".utf8)
            out.append(contentsOf: from.utf8)
            out.append(0x20)
            out.append(contentsOf: text)
        case .privateMessage(let from, let text):
            out.append(contentsOf: "SAY:".utf8)
            out.append(contentsOf: from.utf8)
            out.append(contentsOf: ":(private) ".utf8)
            out.append(contentsOf: text)
        case .notice(.joined(let name, _)):
            out.append(contentsOf: "JOIN:".utf8)
            out.append(contentsOf: name.utf8)
        case .notice(.renamed(_, let name, true)):
            out.append(contentsOf: "JOIN:".utf8)  // A seed client only "arrives" when it names itself.
            out.append(contentsOf: name.utf8)
        case .notice(.left(let name, _, _)), .notice(.quit(let name, _)):
            out.append(contentsOf: "LEAVE:".utf8)
            out.append(contentsOf: name.utf8)
        case .notice(let notice):
            out.append(contentsOf: "SERVER:".utf8)
            out.append(contentsOf: Self.nativeText(of: notice).utf8)
        case .history(let entry):
            out.append(contentsOf: "SERVER:history ".utf8)
            Self.appendHistoryBody(entry, into: &out)
        case .reply(let command, let text, _):
            Self.appendReply(prefix: "SERVER:", command, text, into: &out)
        case .error(let code, let text):
            Self.appendError(prefix: "ERROR:", code, text, into: &out)
        case .raw(let bytes):
            out.append(contentsOf: bytes)
            return
        }
        out.append(0x0A)
    }

    /// A replayed line, from the body the history book rendered once when the line was said:
    /// `HISTORY #room <body>` (native) or `SERVER:history <body>` (seed), newline included.
    public func renderHistory(room: String, body: [UInt8], into out: inout [UInt8]) {
        switch self {
        case .native:
            out.append(contentsOf: "HISTORY ".utf8)
            out.append(contentsOf: room.utf8)
            out.append(0x20)
        case .seed:
            out.append(contentsOf: "SERVER:history ".utf8)
        }
        out.append(contentsOf: body)
        out.append(0x0A)
    }

    /// The style-independent part of a replayed line, rendered once per line (timestamps are
    /// the costly part), so a replay to each joiner is copying.
    public static func historyBody(_ entry: HistoryEntry) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(entry.text.count + entry.sender.utf8.count + 40)
        appendHistoryBody(entry, into: &body)
        return body
    }

    /// `<time> <from> text`, `<time> * from action` or `<time> *** from set the topic: text`.
    private static func appendHistoryBody(_ entry: HistoryEntry, into out: inout [UInt8]) {
        Timestamp.appendISO8601(entry.at, to: &out)
        switch entry.kind {
        case .chat:
            out.append(contentsOf: " <".utf8)
            out.append(contentsOf: entry.sender.utf8)
            out.append(contentsOf: "> ".utf8)
        case .action:
            out.append(contentsOf: " * ".utf8)
            out.append(contentsOf: entry.sender.utf8)
            out.append(0x20)
        case .topic:
            out.append(contentsOf: " *** ".utf8)
            out.append(contentsOf: entry.sender.utf8)
            out.append(contentsOf: " set the topic: ".utf8)
        }
        out.append(contentsOf: entry.text)
    }

    /// `<prefix><command> <text>`: a reply line in either style.
    private static func appendReply(prefix: String, _ command: String, _ text: String, into out: inout [UInt8]) {
        out.append(contentsOf: prefix.utf8)
        out.append(contentsOf: command.utf8)
        if !text.isEmpty {
            out.append(0x20)
            out.append(contentsOf: text.utf8)
        }
    }

    /// `<prefix><CODE>: <text>`: an error line in either style.
    private static func appendError(prefix: String, _ code: ErrorCode, _ text: String, into out: inout [UInt8]) {
        out.append(contentsOf: prefix.utf8)
        out.append(contentsOf: code.rawValue.utf8)
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: text.utf8)
    }

    /// The human sentence for a notice, shared by both styles.
    static func nativeText(of notice: Notice) -> String {
        switch notice {
        case .welcome(let name, let room, let maxLineBytes):
            return "welcome to chatd, \(name): you are in \(room); lines are limited to \(maxLineBytes) bytes; type /help for commands"
        case .joined(let name, let room):
            return "\(name) joined \(room)"
        case .left(let name, let room, let reason):
            return reason.map { "\(name) left \(room) (\($0))" } ?? "\(name) left \(room)"
        case .renamed(let old, let new, _):
            return "\(old) is now known as \(new)"
        case .quit(let name, let reason):
            return "\(name) quit (\(reason))"
        case .topic(let room, let by, let text):
            return "\(by) set the topic of \(room): \(text)"
        case .server(let text):
            return text
        }
    }
}
