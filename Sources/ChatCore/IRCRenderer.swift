/// How chatd's `Outgoing` values look to an IRC client. Every line depends only on the message
/// (never on who receives it), so a fan-out renders it once per variant and every IRC member
/// of a room shares the bytes:
///
///     #dev <alice> hi            → :alice!alice@chatd PRIVMSG #dev :hi
///     #dev * alice waves         → :alice!alice@chatd PRIVMSG #dev :\u{1}ACTION waves\u{1}
///     PM <alice> psst            → :alice!alice@chatd PRIVMSG * :psst   (see `privateTarget`)
///     *** alice joined #dev      → :alice!alice@chatd JOIN #dev
///     *** alice left #dev (bye)  → :alice!alice@chatd PART #dev :bye
///     *** alice quit (reason)    → :alice!alice@chatd QUIT :reason
///     *** a is now known as b    → :a!a@chatd NICK b
///     *** bob set the topic …    → :bob!bob@chatd TOPIC #dev :text
///     *** b was removed from …   → :owner!owner@chatd KICK #dev b :reason
///     *** server text, OK …      → :chatd NOTICE * :text
///     ERROR CODE: text           → :chatd NOTICE * :CODE: text
///
/// Replies and errors to chatd's own commands become server notices here: an IRC command's
/// numerics are written by the IRC dialect, which knows the recipient's nick.
///
/// **Variants.** The only bytes a capability changes are replayed history's: with
/// `server-time` a replayed line is the original PRIVMSG (or ACTION) with its
/// `@time=` tag (and `batch=` inside a `chathistory` batch when `batch` is also enabled); without
/// it, a replayed line is a *server* NOTICE to the channel carrying the time and the sender,
/// `:chatd NOTICE #dev :[2026-12-03T12:00:00Z] <alice> hi`, which no user can forge (a user's
/// prefix always has `!`). Live lines are identical in every variant (server-time lets a
/// server omit `time` on live lines; the client's clock is then right), so the variants are
/// separate wire styles only to keep history replay per style.
public struct IRCVariant: Equatable, Hashable, Sendable {
    /// The client enabled `server-time`.
    public var serverTime: Bool
    /// The client enabled `batch` (only meaningful with `serverTime`).
    public var batch: Bool

    public init(serverTime: Bool = false, batch: Bool = false) {
        self.serverTime = serverTime
        self.batch = serverTime && batch
    }

    /// The variant a connection with `capabilities` reads.
    public init(_ capabilities: IRCCapabilities) {
        self.init(serverTime: capabilities.contains(.serverTime), batch: capabilities.contains(.batch))
    }

    public static let plain = IRCVariant()
    public static let timed = IRCVariant(serverTime: true)
    public static let timedBatched = IRCVariant(serverTime: true, batch: true)
}

public enum IRCRenderer {
    /// The target written on private messages. A private message's bytes must not depend on the
    /// recipient; IRC clients (irssi, WeeChat, HexChat) treat any non-channel target as "to
    /// me", so a PRIVMSG to the recipient's nick and to `*` read the same. When `Outgoing`
    /// carries the recipient (`privateMessage(from:to:text:)`), its name is written instead.
    public static let privateTarget = "*"
    /// The batch reference of a history replay. Replays to one client never overlap (each is
    /// one publish), so one constant reference keeps replayed lines recipient-independent.
    public static let historyBatch = "chathistory"

    /// Appends the rendering of `message`, CR LF included.
    public static func render(_ message: Outgoing, variant: IRCVariant, into out: inout [UInt8]) {
        switch message {
        case .chat(let room, let from, let text):
            appendUserLine(from: from, command: "PRIVMSG", target: room, into: &out)
            out.append(contentsOf: text)
        case .action(let room, let from, let text):
            appendUserLine(from: from, command: "PRIVMSG", target: room, into: &out)
            appendAction(text, into: &out)
        case .privateMessage(let from, let text):
            appendUserLine(from: from, command: "PRIVMSG", target: privateTarget, into: &out)
            out.append(contentsOf: text)
        case .notice(let notice):
            renderNotice(notice, into: &out)
            return
        case .reply(_, let text, _):
            appendServerNotice(target: "*", into: &out)
            out.append(contentsOf: text.utf8)
        case .error(.lineTooLong, _):
            appendServerSource(into: &out)
            out.append(contentsOf: "\(IRCNumeric.inputTooLong.rawValue) * :Input line was too long".utf8)
        case .error(let code, let text):
            appendServerNotice(target: "*", into: &out)
            out.append(contentsOf: code.rawValue.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: text.utf8)
        case .history(let entry):
            renderHistory(room: entry.room, body: WireStyle.historyBody(entry), variant: variant, into: &out)
            return
        case .raw(let bytes):
            out.append(contentsOf: bytes)
            return
        }
        out.append(contentsOf: crlf)
    }

    private static func renderNotice(_ notice: Notice, into out: inout [UInt8]) {
        switch notice {
        case .joined(let name, let room):
            appendSource(name, into: &out)
            out.append(contentsOf: "JOIN ".utf8)
            out.append(contentsOf: room.utf8)
        case .left(let name, let room, let reason):
            appendSource(name, into: &out)
            out.append(contentsOf: "PART ".utf8)
            out.append(contentsOf: room.utf8)
            if let reason {
                out.append(contentsOf: " :".utf8)
                out.append(contentsOf: reason.utf8)
            }
        case .quit(let name, let reason):
            appendSource(name, into: &out)
            out.append(contentsOf: "QUIT :".utf8)
            out.append(contentsOf: reason.utf8)
        case .renamed(let old, let new, _):
            appendSource(old, into: &out)
            out.append(contentsOf: "NICK ".utf8)
            out.append(contentsOf: new.utf8)
        case .topic(let room, let by, let text):
            appendUserLine(from: by, command: "TOPIC", target: room, into: &out)
            out.append(contentsOf: text.utf8)
        case .kicked(let room, let name, let by, let reason, _):
            appendSource(by, into: &out)
            out.append(contentsOf: "KICK \(room) \(name) :\(reason)".utf8)
        case .welcome, .server:
            appendServerNotice(target: "*", into: &out)
            WireStyle.appendNativeText(of: notice, into: &out)
        }
        out.append(contentsOf: crlf)
    }

    // MARK: History

    /// One replayed line from the body the history book rendered once (at its first replay)
    /// (`<time> <from> text`, `<time> * from action`, `<time> *** from set the topic: text`;
    /// the time is always 20 bytes and no sender holds a space or `>`, so the body parses back
    /// exactly). A body that does not parse is shown as a server notice, never dropped.
    public static func renderHistory(room: String, body: [UInt8], variant: IRCVariant, into out: inout [UInt8]) {
        guard variant.serverTime, let line = HistoryBody(body) else {
            appendServerNotice(target: room, into: &out)
            out.append(UInt8(ascii: "["))
            if body.count >= HistoryBody.timeBytes {
                out.append(contentsOf: body[..<HistoryBody.timeBytes])
                out.append(UInt8(ascii: "]"))
                out.append(contentsOf: body[HistoryBody.timeBytes...])
            } else {
                out.append(UInt8(ascii: "]"))
                out.append(contentsOf: body)
            }
            out.append(contentsOf: crlf)
            return
        }
        out.append(UInt8(ascii: "@"))
        if variant.batch {
            out.append(contentsOf: "batch=".utf8)
            out.append(contentsOf: historyBatch.utf8)
            out.append(UInt8(ascii: ";"))
        }
        out.append(contentsOf: "time=".utf8)
        // server-time wants milliseconds: `2026-12-03T12:00:00.000Z`.
        out.append(contentsOf: line.time.dropLast())
        out.append(contentsOf: ".000Z ".utf8)
        switch line.kind {
        case .chat:
            appendUserLine(from: line.sender, command: "PRIVMSG", target: room, into: &out)
            out.append(contentsOf: line.text)
        case .action:
            appendUserLine(from: line.sender, command: "PRIVMSG", target: room, into: &out)
            appendAction(line.text, into: &out)
        case .topic:
            // A replayed TOPIC would overwrite the topic the client was just given (332).
            appendServerNotice(target: room, into: &out)
            out.append(contentsOf: line.sender.utf8)
            out.append(contentsOf: " set the topic: ".utf8)
            out.append(contentsOf: line.text)
        }
        out.append(contentsOf: crlf)
    }

    /// A whole replay: the lines, wrapped in `BATCH +chathistory chathistory #room` …
    /// `BATCH -chathistory` when the variant has batches.
    public static func renderHistoryReplay<Bodies: Sequence<[UInt8]>>(room: String, bodies: Bodies, variant: IRCVariant, into out: inout [UInt8]) {
        if variant.batch {
            appendServerSource(into: &out)
            out.append(contentsOf: "BATCH +\(historyBatch) chathistory \(room)".utf8)
            out.append(contentsOf: crlf)
        }
        for body in bodies { renderHistory(room: room, body: body, variant: variant, into: &out) }
        if variant.batch {
            appendServerSource(into: &out)
            out.append(contentsOf: "BATCH -\(historyBatch)".utf8)
            out.append(contentsOf: crlf)
        }
    }

    /// A history body parsed back into its parts.
    struct HistoryBody {
        static let timeBytes = 20
        let time: ArraySlice<UInt8>
        let kind: HistoryEntry.Kind
        let sender: String
        let text: ArraySlice<UInt8>

        init?(_ body: [UInt8]) {
            guard body.count > Self.timeBytes + 2, body[Self.timeBytes - 1] == UInt8(ascii: "Z"), body[Self.timeBytes] == 0x20 else { return nil }
            time = body[..<Self.timeBytes]
            let rest = body[(Self.timeBytes + 1)...]
            if rest.first == UInt8(ascii: "<") {
                guard let close = rest.firstIndex(of: UInt8(ascii: ">")), close + 1 < body.count, body[close + 1] == 0x20 else { return nil }
                kind = .chat
                sender = String(decoding: rest[(rest.startIndex + 1)..<close], as: UTF8.self)
                text = body[(close + 2)...]
            } else if rest.starts(with: "*** ".utf8) {
                let afterStars = rest.dropFirst(4)
                guard let space = afterStars.firstIndex(of: 0x20) else { return nil }
                let marker = " set the topic: ".utf8
                guard body[space...].starts(with: marker) else { return nil }
                kind = .topic
                sender = String(decoding: afterStars[..<space], as: UTF8.self)
                text = body[(space + marker.count)...]
            } else if rest.starts(with: "* ".utf8) {
                let afterStar = rest.dropFirst(2)
                guard let space = afterStar.firstIndex(of: 0x20) else { return nil }
                kind = .action
                sender = String(decoding: afterStar[..<space], as: UTF8.self)
                text = body[(space + 1)...]
            } else {
                return nil
            }
        }
    }

    // MARK: Pieces

    static let crlf: [UInt8] = [0x0D, 0x0A]

    /// `:nick!nick@chatd COMMAND target :`
    private static func appendUserLine(from: String, command: String, target: String, into out: inout [UInt8]) {
        appendSource(from, into: &out)
        out.append(contentsOf: command.utf8)
        out.append(0x20)
        out.append(contentsOf: target.utf8)
        out.append(contentsOf: " :".utf8)
    }

    /// `:nick!nick@chatd `
    private static func appendSource(_ nick: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: ":"))
        IRCNames.appendPrefix(of: nick, to: &out)
        out.append(0x20)
    }

    private static func appendServerSource(into out: inout [UInt8]) {
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: IRCNames.server.utf8)
        out.append(0x20)
    }

    /// `:chatd NOTICE target :`
    private static func appendServerNotice(target: String, into out: inout [UInt8]) {
        appendServerSource(into: &out)
        out.append(contentsOf: "NOTICE ".utf8)
        out.append(contentsOf: target.utf8)
        out.append(contentsOf: " :".utf8)
    }

    /// `\u{1}ACTION text\u{1}` (CTCP).
    private static func appendAction<Text: Collection<UInt8>>(_ text: Text, into out: inout [UInt8]) {
        out.append(0x01)
        out.append(contentsOf: "ACTION ".utf8)
        out.append(contentsOf: text)
        out.append(0x01)
    }
}
