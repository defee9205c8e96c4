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
        try self.store.open(store, history: settings, for: self)
        historyStorage = DatabaseHistory(server: self)
    }

    /// From `applyHubEffects`: one hand-over of history per loop iteration, to the history
    /// storage chosen at start-up (nothing without one).
    func handOver(_ history: HistoryHandOver?) {
        guard let history, let historyStorage else { return }
        counters.historyLinesQueued &+= UInt64(history.lineCount)
        historyStorage.append(history)
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
        handOver(effects.history)
        accountStorage?.finish(effects.accountChanges, effects.accountWrites)
        store.close()?.deliver()  // the writer's last reports, logged
    }
}
