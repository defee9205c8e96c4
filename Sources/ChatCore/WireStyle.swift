/// How one connection wants lines rendered: a per-connection strategy, so the hub has a single
/// code path and only the final bytes differ. A style is a small index into
/// `WireRenderers.all`, so the per-recipient lookup in fan-out reads one byte, and a new protocol
/// adds a renderer file and one entry in that table instead of a `case` in every switch.
public struct WireStyle: Hashable, Sendable {
    /// The renderer's position in `WireRenderers.all`.
    public let index: UInt8

    public init(index: UInt8) { self.index = index }

    /// Every style, in index order (metrics, tests).
    public static var all: [WireStyle] { WireRenderers.all.indices.map { WireStyle(index: UInt8($0)) } }

    /// The renderer behind this style.
    var renderer: any WireRenderer { WireRenderers.all[Int(index)] }

    /// The protocol this style belongs to, for metrics labels (several styles, variants of one
    /// protocol, may share a name).
    public var protocolName: String { renderer.protocolName }

    /// Appends the rendering of `message`, newline (or frame) included, to `out`.
    public func render(_ message: Outgoing, into out: inout [UInt8]) { renderer.render(message, into: &out) }

    /// A replayed line, from the body the history book rendered once (at its first replay).
    public func renderHistory(room: String, body: [UInt8], into out: inout [UInt8]) {
        renderer.renderHistory(room: room, body: body, into: &out)
    }

    /// See `WireRenderer.historyReplayLinePrefix`.
    func historyReplayLinePrefix(room: String) -> [UInt8]? { renderer.historyReplayLinePrefix(room: room) }

    /// A whole replay from bodies walked in the history ring, framed as the protocol frames one
    /// (`WireRenderer.renderHistoryReplay`).
    func renderHistoryReplay(room: String, lineCount: Int, forEachBody: (([UInt8]) -> Void) -> Void, into out: inout [UInt8]) {
        renderer.renderHistoryReplay(room: room, lineCount: lineCount, forEachBody: forEachBody, into: &out)
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
    static func appendHistoryBody(_ entry: HistoryEntry, into out: inout [UInt8]) {
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
    static func appendReply(prefix: String, _ command: String, _ text: String, into out: inout [UInt8]) {
        out.append(contentsOf: prefix.utf8)
        out.append(contentsOf: command.utf8)
        if !text.isEmpty {
            out.append(0x20)
            out.append(contentsOf: text.utf8)
        }
    }

    /// `<prefix><CODE>: <text>`: an error line in either style.
    static func appendError(prefix: String, _ code: ErrorCode, _ text: String, into out: inout [UInt8]) {
        out.append(contentsOf: prefix.utf8)
        out.append(contentsOf: code.rawValue.utf8)
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: text.utf8)
    }

    /// The human sentence for a notice, shared by the styles that show one, appended piece by
    /// piece: no String is built (a join and a quit notice are rendered for every connection).
    static func appendNativeText(of notice: Notice, into out: inout [UInt8]) {
        switch notice {
        case .welcome(let name, let room, let maxLineBytes):
            out.append(contentsOf: "welcome to chatd, ".utf8)
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": you are in ".utf8)
            out.append(contentsOf: room.utf8)
            out.append(contentsOf: "; lines are limited to ".utf8)
            DecimalText.append(Int64(maxLineBytes), to: &out)
            out.append(contentsOf: " bytes; type /help for commands".utf8)
        case .joined(let name, let room):
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: " joined ".utf8)
            out.append(contentsOf: room.utf8)
        case .left(let name, let room, let reason):
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: " left ".utf8)
            out.append(contentsOf: room.utf8)
            if let reason { appendParenthesised(reason, into: &out) }
        case .renamed(let old, let new, _):
            out.append(contentsOf: old.utf8)
            out.append(contentsOf: " is now known as ".utf8)
            out.append(contentsOf: new.utf8)
        case .quit(let name, let reason):
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: " quit".utf8)
            appendParenthesised(reason, into: &out)
        case .kicked(let room, let name, let by, let reason, let toVictim):
            if toVictim {
                out.append(contentsOf: "you were".utf8)
            } else {
                out.append(contentsOf: name.utf8)
                out.append(contentsOf: " was".utf8)
            }
            out.append(contentsOf: " removed from ".utf8)
            out.append(contentsOf: room.utf8)
            out.append(contentsOf: " by ".utf8)
            out.append(contentsOf: by.utf8)
            appendParenthesised(reason, into: &out)
        case .topic(let room, let by, let text):
            out.append(contentsOf: by.utf8)
            out.append(contentsOf: " set the topic of ".utf8)
            out.append(contentsOf: room.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: text.utf8)
        case .server(let text):
            out.append(contentsOf: text.utf8)
        }
    }

    /// ` (text)`.
    private static func appendParenthesised(_ text: String, into out: inout [UInt8]) {
        out.append(contentsOf: " (".utf8)
        out.append(contentsOf: text.utf8)
        out.append(0x29)
    }
}
