import ChatCore
import ChatStore
import EventIO

/// Opening the store for a server (`ChatServer.openStore`): what the hub needs from the
/// database before the loop runs, and the writer thread whose reports come back to the loop.
extension StoreLink {
    /// Forgets protected rooms' history (their access rules did not survive the restart), gives
    /// the hub a reader for rooms' history as they are created, loads the default room's lines,
    /// the accounts and the bans, and starts the writer thread. Before the loop runs.
    mutating func open(_ store: HistoryStore, history settings: HistorySettings, for server: ChatServer) throws {
        let hub = server.hub
        let forgotten = try store.forgetProtectedRooms()
        let reader = try HistoryReader(path: store.database.path)
        let logger = server.logger
        hub.historyLoader = { key in
            do {
                return try reader.recent(roomKey: key, limit: HistorySettings.linesInMemory)
            } catch {
                logger.error("history: cannot read \(key) (\(error)); the room starts without its history")
                return []
            }
        }
        let lobbyKey = NameRules.fold(hub.defaultRoom)
        let lobbyLines = try reader.recent(roomKey: lobbyKey, limit: HistorySettings.linesInMemory)
        hub.history?.load(lobbyLines, key: lobbyKey)
        let accounts = try AccountStore(database: store.database)
        hub.accounts = try accounts.loadAccounts()
        hub.serverBans = try accounts.loadBans { logger.warning("bans: \($0)") }
        hub.historyStartsPersisting()
        let inbox = AsyncInbox<StoreWriter.Report>(reactor: server.reactor) { [unowned server] reports in
            for report in reports {
                switch report {
                case .durable(let batch):
                    hub.historyDurable(through: batch)
                    server.store.committed(through: batch)
                case .failing(let error, let lines):
                    logger.error("history: cannot write (\(error)); \(lines) lines lost so far, chat continues")
                case .recovered(let lost):
                    logger.notice("history: writing again; \(lost) lines were not stored")
                case .pruned(let lines):
                    logger.info("history: retention deleted \(lines) lines")
                }
            }
        }
        inbox.start()
        let writer = try StoreWriter(store: store, accounts: accounts, commitWindow: settings.commitWindow, retention: settings.retention,
                                     metrics: server.workerMetrics) { inbox.post($0) }
        open(writer, reports: inbox)
        logger.notice("history: \(store.database.path), \(lobbyLines.count) lines of \(hub.defaultRoom) loaded (other rooms as they are created); replaying \(settings.replayLines) on join; \(settings.memoryBudget) bytes of lines in memory at most; \(forgotten) protected rooms forgotten; \(hub.accounts.count) accounts, \(hub.serverBans.count) bans")
    }
}
