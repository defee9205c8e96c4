import ChatCore
import ChatStore

/// Room history on the server: rings filled from the store at start, each iteration's lines
/// handed to the writer thread from the prepare callback, the writer's reports logged on the
/// loop thread, and everything committed before exit.
extension ChatServer {
    /// Turns history on: loads the latest lines of every stored room, the accounts and the bans
    /// into memory (before the loop runs, so this is the only time the loop thread reads the
    /// database) and starts the writer thread. Without a store, history is kept in memory only.
    public func enableHistory(store: HistoryStore?, settings: HistorySettings) throws {
        var book = HistoryBook(linesPerRoom: HistorySettings.linesInMemory)
        var loaded = 0
        if let store {
            for key in try store.roomKeys() {
                let lines = try store.recent(roomKey: key, limit: HistorySettings.linesInMemory)
                for entry in lines { book.record(entry, key: key) }
                loaded += lines.count
            }
        }
        hub.history = book
        hub.historyReplayLines = settings.replayLines
        guard let store else { return }
        let accounts = try AccountStore(database: store.database)
        hub.accounts = try accounts.loadAccounts()
        let logger = self.logger
        hub.serverBans = try accounts.loadBans { logger.warning("bans: \($0)") }
        let inbox = AsyncInbox<StoreWriter.Report>(reactor: reactor) { reports in
            for report in reports {
                switch report {
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
        storeInbox = inbox
        storeWriter = try StoreWriter(store: store, accounts: accounts, commitWindow: settings.commitWindow, retention: settings.retention) { inbox.post($0) }
        hub.persistsHistory = true
        logger.notice("history: \(store.database.path), \(loaded) lines in \(book.roomCount) rooms loaded; replaying \(settings.replayLines) on join; \(hub.accounts.count) accounts, \(hub.serverBans.count) bans")
    }

    /// From `flushAll`: one hand-over per loop iteration. Without a writer (history off)
    /// account changes stay in memory only.
    func handOverHistory() {
        if !hub.pendingHistory.isEmpty {
            storeWriter?.submit(hub.pendingHistory)
            hub.pendingHistory.removeAll(keepingCapacity: true)
        }
        if !hub.pendingAccountChanges.isEmpty {
            storeWriter?.submit(hub.pendingAccountChanges)
            hub.pendingAccountChanges.removeAll()
        }
    }

    /// At exit, after the loop stopped: commits every line received, stops the writer thread
    /// and logs what it last reported.
    public func closeHistory() {
        guard let writer = storeWriter else { return }
        handOverHistory()
        writer.close()
        storeWriter = nil
        storeInbox?.stop()
        storeInbox?.deliver()
        storeInbox = nil
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
    public var retention = HistoryRetention()
    public init() {}
}
