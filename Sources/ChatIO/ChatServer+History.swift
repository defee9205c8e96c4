import ChatCore
import ChatStore
import EventIO

/// Room history on the server: rings loaded per room as rooms are created (see `HistoryBook`
/// and `HistoryReader`), each iteration's lines handed to the writer thread from the prepare
/// callback, the writer's reports logged on the loop thread, everything committed before exit.
extension ChatServer {
    /// Turns history on and opens the store, which keeps room history, accounts and bans alike:
    /// forgets protected rooms' history (their access rules did not survive the restart), loads
    /// the default room's lines, the accounts and the bans, and starts the writer thread. Other
    /// rooms are read when they are created, so start-up costs the same whatever the database
    /// holds. Without a store (nil), history is kept in memory only, and so are accounts and bans.
    public func openStore(_ store: HistoryStore?, history settings: HistorySettings) throws {
        var book = HistoryBook(linesPerRoom: HistorySettings.linesInMemory, memoryBudget: settings.memoryBudget)
        book.linesKeptUnderPressure = max(settings.replayLines, 1)
        hub.history = book
        hub.historyReplayLines = settings.replayLines
        guard let store else { return }
        let forgotten = try store.forgetProtectedRooms()
        let reader = try HistoryReader(path: store.database.path)
        let logger = self.logger
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
        let hub = self.hub
        let inbox = AsyncInbox<StoreWriter.Report>(reactor: reactor) { [unowned self] reports in
            for report in reports {
                switch report {
                case .durable(let batch):
                    hub.historyDurable(through: batch)
                    self.store.committed(through: batch)
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
                                     metrics: workerMetrics) { inbox.post($0) }
        self.store.open(writer, reports: inbox)
        logger.notice("history: \(store.database.path), \(lobbyLines.count) lines of \(hub.defaultRoom) loaded (other rooms as they are created); replaying \(settings.replayLines) on join; \(settings.memoryBudget) bytes of lines in memory at most; \(forgotten) protected rooms forgotten; \(hub.accounts.count) accounts, \(hub.serverBans.count) bans")
    }

    /// From `applyHubEffects`: one hand-over per loop iteration. Without a writer (history
    /// off) account changes stay in memory only.
    func handOver(_ history: HistoryHandOver?, accountChanges: [AccountChange]) {
        if let history {
            counters.historyLinesQueued &+= UInt64(history.lines.count)
            store.submit(history)
        }
        if !accountChanges.isEmpty { store.writer?.submit(accountChanges) }
    }

    /// Whether the writer is far enough behind that reading more chat would only pile lines up
    /// in memory: then input is held (like the per-pass budget) until it catches up.
    var historyWriterIsBehind: Bool {
        store.bytesInFlight + hub.pendingHistoryBytes >= IOLimits.historyBytesInFlight
    }

    /// At exit, after the loop stopped: commits every line received, stops the writer thread
    /// and logs what it last reported.
    public func closeStore() {
        guard store.isOpen else { return }
        // The read connection goes first: the writer's close checkpoints the log into the
        // database file only when it is the last connection.
        hub.historyLoader = nil
        let effects = hub.takeEffects(passwordJobs: 0)
        handOver(effects.history, accountChanges: effects.accountChanges)
        // A registration or password change hashed in the last iteration is still committed;
        // its client is already gone, so nobody waits for the answer.
        if !effects.accountWrites.isEmpty { store.writer?.submit(effects.accountWrites) { _ in } }
        store.close()?.deliver()  // the writer's last reports, logged
    }
}

/// History settings (`--db`, `--history-*`, `--commit-window`).
public struct HistorySettings: Sendable {
    /// Lines kept in memory per room: the most `/history` shows and the most replayed on join.
    public static let linesInMemory = 200
    /// Lines replayed on join (0: none).
    public var replayLines = HistoryBook.defaultReplayLines
    /// Longest a received line waits before it is committed (see `StoreWriter`).
    public var commitWindow = 0.05
    /// Bytes of lines kept in memory across all rooms (`--history-memory`; see `HistoryBook`).
    public var memoryBudget = HistoryBook.defaultMemoryBudget
    public var retention = HistoryRetention()
    public init() {}
}
