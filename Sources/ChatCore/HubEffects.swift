/// Everything the hub asks of the I/O layer besides output and departures, taken in one call
/// per loop iteration (`Hub.takeEffects`): work for the store writer and the hashing thread,
/// and changes to how clients are read. Output and the requests to close after it stay in the
/// `Outbox`, which the I/O layer flushes separately.
public struct HubEffects {
    /// Lines said and room-history changes since the last take, for the store writer as one
    /// hand-over batch; nil when there are none.
    public var history: HistoryHandOver?
    /// Account and ban changes for the store writer (no client waits on them).
    public var accountChanges: [AccountChange] = []
    /// Account changes whose clients wait for the commit: report each with
    /// `Hub.accountWriteFinished`.
    public var accountWrites: [AccountWrite] = []
    /// Password work for the hashing thread, in fair order, no more than asked for: report
    /// each with `Hub.authFinished`.
    public var passwordJobs: [AuthJob] = []
    /// Clients whose reading should pause this many seconds (wrong server password).
    public var penalties: [(ClientID, Double)] = []
    /// Clients whose input started or stopped being held: pause or resume reading each as
    /// `Hub.isHoldingInput` says.
    public var inputHoldChanges: [ClientID] = []

    public var isEmpty: Bool {
        history == nil && accountChanges.isEmpty && accountWrites.isEmpty && passwordJobs.isEmpty
            && penalties.isEmpty && inputHoldChanges.isEmpty
    }
}

/// One hand-over of history to the store: the lines as runs per room, already in the store's
/// text (`RoomLines`), the room changes at their places among them, and the batch number
/// `Hub.historyDurable(through:)` reports back.
public struct HistoryHandOver: Sendable {
    public let runs: [RoomLines]
    /// Lines in `runs`.
    public let lineCount: Int
    /// What `runs` holds in memory (`RoomLines.bytesInMemory` summed).
    public let bytes: Int
    public let roomChanges: [PendingRoomChange]
    public let batch: UInt64
}

extension Hub {
    /// Takes what the I/O layer must do, leaving nothing queued; at most `passwordJobs` jobs
    /// (what the hashing thread has room for: the rest wait, in order, for the next take).
    public func takeEffects(passwordJobs: Int = .max) -> HubEffects {
        var effects = HubEffects()
        effects.history = roomHistory.takeHandOver()
        if !accountBook.pendingChanges.isEmpty { swap(&effects.accountChanges, &accountBook.pendingChanges) }
        if !accountBook.pendingWrites.isEmpty { swap(&effects.accountWrites, &accountBook.pendingWrites) }
        while effects.passwordJobs.count < passwordJobs, let job = accountBook.passwordQueue.next() { effects.passwordJobs.append(job) }
        if !pendingPenalties.isEmpty { swap(&effects.penalties, &pendingPenalties) }
        if !inputHoldChanges.isEmpty { swap(&effects.inputHoldChanges, &inputHoldChanges) }
        return effects
    }

    /// Bytes of lines waiting for the next hand-over, for the I/O layer's bound on history in
    /// flight.
    public var pendingHistoryBytes: Int { roomHistory.pendingBytes }
}
