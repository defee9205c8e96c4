/// Server operators' commands: `/announce`, `/kill`, server-wide `/ban` and `/unban`, `/stats`.
/// Each entry is `.serverOperator`: the hub has checked before the handler runs.
enum OperatorCommands {
    static let entries: [CommandEntry] = [
        CommandEntry("announce", [.text("text")], permission: .serverOperator, help: "operator: a notice to everyone", group: .more) {
            $0.reply($1.client, "announce", "sent to \($0.announce($1.arguments.word(0))) clients")
        },
        CommandEntry("kill", [.word("NAME"), .optionalText("reason")], permission: .serverOperator,
                     help: "operator: disconnect someone", group: .more) { kill($0, $1.arguments.word(0), reason: $1.arguments.text(1), from: $1.client) },
        CommandEntry("ban", [.word("ADDRESS|NAME"), .optionalDuration], permission: .serverOperator,
                     help: "operator: ban server-wide: an address, a range (127.0.0.0/8) or a name; /unban lifts it", group: .more) {
            serverBan($0, $1.arguments.word(0), seconds: $1.arguments.seconds(1), from: $1.client)
        },
        CommandEntry("unban", [.word("ADDRESS|NAME")], permission: .serverOperator, help: nil, group: .more) {
            serverUnban($0, $1.arguments.word(0), from: $1.client)
        },
        CommandEntry("stats", permission: .serverOperator, help: "operator: clients, rooms, messages/s, bytes queued, uptime", group: .more) {
            showStats($0, for: $1.client)
        },
    ]

    private static func kill(_ hub: Hub, _ name: String, reason: String?, from id: ClientID) {
        guard ArgumentCheck.reasonFits(hub, reason, id) else { return }
        guard let target = hub.clients.id(named: name), let victim = hub.clients.name(of: target) else { return hub.refuse(id, .notOnline(name)) }
        hub.expel(target, .killed, "disconnected by an operator" + (reason.map { ": \($0)" } ?? ""), reason: "killed by an operator")
        hub.reply(id, "kill", victim)
    }

    /// A server-wide ban on a name, or on an address or range (a guest's address name bans its
    /// address). Stored under the canonical text of the range, so every spelling finds it.
    private static func serverBan(_ hub: Hub, _ target: String, seconds: Double?, from id: ClientID) {
        guard let by = hub.clients.name(of: id) else { return }
        guard let parsed = BanTarget(target) else {
            return hub.fail(id, .usage, "ban an address (127.0.0.2, ::1), a range (127.0.0.0/8, 2001:db8::/32), a guest's address name or a name")
        }
        let key: String
        var range: AddressRange?
        switch parsed {
        case .name(let folded): key = folded
        case .addresses(let addresses):
            key = hub.accountBook.key(for: addresses) ?? addresses.description
            range = addresses
        }
        let ban = ServerBan(target: key, isAddress: range != nil, until: seconds.map { hub.now + $0 }, setBy: by)
        hub.accountBook.addBan(ban)
        let removed = expelCovered(hub, by: ban, range: range, except: id)
        hub.reply(id, "ban", "\(target) banned" + ban.suffix + "; \(removed) disconnected")
    }

    /// Disconnects every client a new server ban covers (but `except`, the operator who made
    /// it); returns how many. `range` is the ban's addresses, nil for a name ban.
    static func expelCovered(_ hub: Hub, by ban: ServerBan, range: AddressRange?, except id: ClientID?) -> Int {
        var removed = 0
        for other in hub.clients.allIDs() where other != id {
            guard let state = hub.clients[other] else { continue }
            let matches = range.map { range in state.ip.map(range.contains) ?? false }
                ?? (NameRules.fold(state.name) == ban.target || state.account.map(NameRules.fold) == ban.target)
            if matches {
                hub.expel(other, .banned, "you are banned from this server" + ban.suffix, reason: "banned")
                removed += 1
            }
        }
        return removed
    }

    private static func serverUnban(_ hub: Hub, _ target: String, from id: ClientID) {
        let key: String
        switch BanTarget(target) {
        case .addresses(let range): key = hub.accountBook.key(for: range) ?? target
        case .name(let folded): key = folded
        case nil: key = target  // a stored key of an older, unparsed form
        }
        guard hub.accountBook.removeBan(key) else { return hub.fail(id, .usage, "\(Sanitizer.printable(target.prefix(60))) is not banned") }
        hub.reply(id, "unban", "\(target) unbanned")
    }

    private static func showStats(_ hub: Hub, for id: ClientID) {
        let uptime = Int(hub.stats.uptimeSeconds)
        let text = "\(hub.clientCount) clients, \(hub.roomCount) rooms, \(String(format1: hub.stats.messagesPerSecond)) messages/s, "
            + "\(hub.stats.bytesQueued) bytes queued, up \(uptime / 86_400)d \(uptime / 3600 % 24)h \(uptime / 60 % 60)m \(uptime % 60)s, "
            + "\(hub.accountBook.accounts.count) accounts, \(hub.accountBook.serverBans.count) bans"
        hub.reply(id, "stats", text)
    }
}

extension String {
    /// One decimal place, without Foundation's String(format:).
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }
}
