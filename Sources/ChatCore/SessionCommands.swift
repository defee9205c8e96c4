/// The connection itself: `/ping`, `/help`, `/quit` — all allowed before the server password.
enum SessionCommands {
    static let entries: [CommandEntry] = [
        CommandEntry("ping", [.optionalText("token")], permission: .beforePassword, help: "the server answers OK pong with the same token") {
            $0.reply($1.client, "pong", $1.arguments.text(0) ?? "")
        },
        CommandEntry("quit", words: ["quit", "exit"], [.optionalText("reason")], permission: .beforePassword, help: "say goodbye and disconnect") {
            quit($0, $1.arguments.text(0), from: $1.client)
        },
        CommandEntry("help", permission: .beforePassword, help: "this list", ignoresExtraArguments: true) { help($0, for: $1.client) },
    ]

    private static func quit(_ hub: Hub, _ reason: String?, from id: ClientID) {
        hub.reply(id, "quit", "goodbye")
        hub.dismiss(id, reason: reason.map { $0.prefix(maxBytes: hub.limits.maxReasonBytes) } ?? "quit")
    }

    /// Every table entry that has a help line, in table order, so a new command is listed by
    /// being in the table.
    private static func help(_ hub: Hub, for id: ClientID) {
        let lines = hub.commands.helpLines
        for line in lines {
            let padded = line.usage + String(repeating: " ", count: max(1, 24 - line.usage.count))
            hub.reply(id, "help", "\(padded)\(line.summary)", final: false)
        }
        hub.reply(id, "help", "\(lines.count) commands; a line that is not a command is said in your current room")
    }
}

extension String {
    /// The string cut to at most `maxBytes` bytes at a Unicode scalar boundary, so the result
    /// is still valid UTF-8.
    func prefix(maxBytes: Int) -> String {
        guard utf8.count > maxBytes else { return self }
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in unicodeScalars {
            let size = String(scalar).utf8.count
            if bytes + size > maxBytes { break }
            kept.append(scalar)
            bytes += size
        }
        return String(kept)
    }
}
