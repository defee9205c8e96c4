import ChatCore

/// Accounts and server bans of a cluster node, in Redis (the `AccountStorage` a cluster node
/// chooses at start-up): `chatd:accounts` (folded name → `name TAB argon2id-string`) and
/// `chatd:bans` (target → `address|name TAB end TAB setter`), through the link's command
/// connection, on the loop. Every change is announced on the events channel after it is
/// written, on the same connection, so a node that hears of it and reads the hash finds it.
/// A `/register` or `/passwd` is answered once Redis has answered the write (as a single node
/// answers once SQLite committed); while Redis is unreachable such writes fail with
/// `SERVER_ERROR` and nothing changes, and a ban is applied on this node only (logged).
final class RedisAccounts: AccountStorage {
    private unowned let link: ClusterLink

    init(link: ClusterLink) { self.link = link }

    func save(_ changes: [AccountChange]) {
        guard link.isUp, let commands = link.commands else {
            link.logger.error("cluster: Redis is unreachable; \(changes.count) account or ban change(s) apply on this node only", metadata: ["node": "\(link.node)"])
            return
        }
        for change in changes {
            switch change {
            case .saveAccount(let key, let account):
                commands.sendWithoutReply(["HSET", ClusterKeys.accountsHash, key, account.clusterValue].map { Array($0.utf8) })
                announce(.account(node: link.node, key: key, name: account.name, hash: account.hash))
            case .saveBan(let ban):
                commands.sendWithoutReply(["HSET", ClusterKeys.bansHash, ban.target, ban.clusterValue].map { Array($0.utf8) })
                announce(.serverBan(node: link.node, ban))
            case .removeBan(let target):
                commands.sendWithoutReply(["HDEL", ClusterKeys.bansHash, target].map { Array($0.utf8) })
                announce(.serverUnban(node: link.node, target: target))
            }
        }
    }

    func write(_ writes: [AccountWrite]) {
        let hub = link.hub
        for write in writes {
            guard case .saveAccount(let key, let account) = write.change else {
                save([write.change])
                hub.accountWriteFinished(ticket: write.ticket, error: nil)
                continue
            }
            guard link.isUp, let commands = link.commands else {
                hub.accountWriteFinished(ticket: write.ticket, error: "the cluster's Redis is unreachable")
                continue
            }
            let arguments = ["HSET", ClusterKeys.accountsHash, key, account.clusterValue].map { Array($0.utf8) }
            let sent = commands.send(arguments) { [weak self] reply in
                guard let self else { return }
                hub.now = link.reactor.now
                switch reply {
                case .error(let text)?: hub.accountWriteFinished(ticket: write.ticket, error: "Redis refused it: \(text)")
                case nil: hub.accountWriteFinished(ticket: write.ticket, error: "the connection to Redis was lost")
                default:
                    announce(.account(node: link.node, key: key, name: account.name, hash: account.hash))
                    hub.accountWriteFinished(ticket: write.ticket, error: nil)
                }
            }
            if !sent { hub.accountWriteFinished(ticket: write.ticket, error: "the cluster's Redis is unreachable") }
        }
    }

    /// At exit the loop has stopped and the connection with it: nothing more is stored.
    func finish(_ changes: [AccountChange], _ writes: [AccountWrite]) {}

    private func announce(_ message: ClusterMessage) {
        link.commands?.publish(channel: ClusterKeys.eventsChannel, payload: message.encoded())
    }
}

/// Room history of a cluster node, in Redis streams (the `HistoryStorage` a cluster node
/// chooses at start-up), on the link's command connection. An iteration's lines go out as one
/// stream entry per room run (`RoomLines`: at most 64 lines or 64 KiB each, already in the
/// entry's text: `RoomLines.streamFields`), appended and trimmed by lines by `ClusterScripts.appendHistory`,
/// so a flood costs Redis one command per room and iteration rather than one per line. Only
/// the node where a line was said stores it, so a line is stored once. The hand-over's
/// protection changes need nothing here: a room that empties on every node with a key or a
/// ban loses its stream with its rules (`ClusterScripts.roomClosed`). While Redis is
/// unreachable the lines are kept in the node's rings only (at most once, like a publish).
final class RedisHistory: HistoryStorage {
    private unowned let link: ClusterLink

    init(link: ClusterLink) { self.link = link }

    func append(_ history: HistoryHandOver) {
        guard link.isUp, let commands = link.commands else { return }
        for run in history.runs {
            let arguments = ["EVAL", ClusterScripts.appendHistory, "0", ClusterKeys.historyStream(run.key), ClusterKeys.historyLines(run.key),
                             String(link.historyMaxLines), String(run.lines)].map { Array($0.utf8) }
            commands.sendWithoutReply(arguments + run.streamFields)
        }
    }
}

extension ClusterLink {
    /// Makes Redis the server's store of accounts and bans, and of history when it is on
    /// (chosen once, at start-up: they replace the database's).
    public func store(in server: ChatServer) {
        server.useAccountStorage(RedisAccounts(link: self))
        if server.hub.history != nil { server.historyStorage = RedisHistory(link: self) }
    }

    /// Reads every server ban of the cluster for the hub (`Hub.clusterBans`).
    func fetchBans() {
        commands?.send(["HGETALL", ClusterKeys.bansHash].map { Array($0.utf8) }) { [weak self] reply in
            guard let self, case .array(let items) = reply else { return }
            let bans = Self.pairs(items).compactMap { ServerBan(target: $0.field, clusterValue: $0.value) }
            hub.now = reactor.now
            hub.clusterBans(bans)
        }
    }
}
