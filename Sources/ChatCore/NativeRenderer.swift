/// chatd's own line protocol, documented in the README and chosen by default:
///
///     #lobby <alice> hello            chat in a room
///     #lobby * alice waves            /me
///     PM <alice> psst                 a private message to you
///     *** alice joined #lobby         a notice
///     OK nick alice                   a reply (multi-line replies use "OK-" on all but the last)
///     ERROR NICK_IN_USE: the name "bob" is taken
struct NativeRenderer: WireRenderer {
    var protocolName: String { "chatd" }

    func render(_ message: Outgoing, into out: inout [UInt8]) {
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
            WireStyle.appendNativeText(of: notice, into: &out)
        case .history(let entry):
            out.append(contentsOf: "HISTORY ".utf8)
            out.append(contentsOf: entry.room.utf8)
            out.append(0x20)
            WireStyle.appendHistoryBody(entry, into: &out)
        case .reply(let command, let text, let final):
            WireStyle.appendReply(prefix: final ? "OK " : "OK-", command, text, into: &out)
        case .error(let code, let text):
            WireStyle.appendError(prefix: "ERROR ", code, text, into: &out)
        case .raw(let bytes):
            out.append(contentsOf: bytes)
            return
        }
        out.append(0x0A)
    }

    func renderHistory(room: String, body: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: "HISTORY ".utf8)
        out.append(contentsOf: room.utf8)
        out.append(0x20)
        out.append(contentsOf: body)
        out.append(0x0A)
    }

    /// A native replay is `renderHistory`'s lines one after another, so the book frames them
    /// with `HISTORY <room> ` made into bytes once per replay (`HistoryBook.frameRecent`);
    /// the replay methods of `WireRenderer` are then never reached for this style.
    func historyReplayLinePrefix(room: String) -> [UInt8]? { Self.historyPrefix(room) }

    private static func historyPrefix(_ room: String) -> [UInt8] {
        var prefix: [UInt8] = []
        prefix.reserveCapacity(room.utf8.count + 9)
        prefix.append(contentsOf: "HISTORY ".utf8)
        prefix.append(contentsOf: room.utf8)
        prefix.append(0x20)
        return prefix
    }
}

extension WireStyle {
    /// chatd's own line protocol (NativeRenderer).
    public static let native = WireStyle(index: 0)
}
