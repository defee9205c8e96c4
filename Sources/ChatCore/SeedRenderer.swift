/// The newline protocol of the original Rust tcp-chat, chosen by a connection whose first line
/// is `JOIN:`, `SAY:` or `LEAVE:`: `SAY:<from>:<text>`, `JOIN:<name>`, `LEAVE:<name>`,
/// `SERVER:<text>`, `ERROR:<text>`.
struct SeedRenderer: WireRenderer {
    var protocolName: String { "tcp-chat" }

    func render(_ message: Outgoing, into out: inout [UInt8]) {
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
            WireStyle.appendNativeText(of: notice, into: &out)
        case .history(let entry):
            out.append(contentsOf: "SERVER:history ".utf8)
            WireStyle.appendHistoryBody(entry, into: &out)
        case .reply(let command, let text, _):
            WireStyle.appendReply(prefix: "SERVER:", command, text, into: &out)
        case .error(let code, let text):
            WireStyle.appendError(prefix: "ERROR:", code, text, into: &out)
        case .raw(let bytes):
            out.append(contentsOf: bytes)
            return
        }
        out.append(0x0A)
    }

    func renderHistory(room: String, body: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: "SERVER:history ".utf8)
        out.append(contentsOf: body)
        out.append(0x0A)
    }
}

extension WireStyle {
    /// The tcp-chat seed protocol (SeedRenderer).
    public static let seed = WireStyle(index: 1)
}
