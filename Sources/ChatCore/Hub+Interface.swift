/// What the I/O layer configures on the hub, by name, so the parts behind it (router, account
/// book, room history) can change without the I/O layer knowing them. What it takes from the
/// hub comes in one `takeEffects()` (HubEffects.swift).
extension Hub {
    /// Bytes queued this iteration; the I/O layer flushes and resets it. Read in place
    /// (`_read`), not returned as a copy: the flush reads it once per dirty client, and a copy
    /// would retain and release the outbox's arrays each time.
    public var outbox: Outbox {
        _read { yield router.outbox }
        _modify { yield &router.outbox }
    }

    // MARK: History (RoomHistory.swift)

    /// The latest lines of each room (nil: history is off, nothing is kept or replayed).
    public var history: HistoryBook? {
        get { roomHistory.book }
        _modify { yield &roomHistory.book }
    }
    /// Lines replayed on join (0: none; `/history` still answers).
    public var historyReplayLines: Int {
        get { roomHistory.replayLines }
        set { roomHistory.replayLines = newValue }
    }
    /// Reads a room's latest lines from the store when a room is created; nil: memory only.
    public var historyLoader: ((String) -> [HistoryEntry])? {
        get { roomHistory.loader }
        set { roomHistory.loader = newValue }
    }
    public func historyStartsPersisting() { roomHistory.startPersisting() }
    /// The writer has finished every hand-over batch up to `batch`.
    public func historyDurable(through batch: UInt64) { roomHistory.durable(through: batch) }

    // MARK: Accounts (AccountBook.swift, PasswordFlow.swift)

    public var accounts: [String: Account] {
        get { accountBook.accounts }
        _modify { yield &accountBook.accounts }
    }
    public var operators: Set<String> {
        get { accountBook.operators }
        set { accountBook.operators = newValue }
    }
    public var operatorAccounts: [String: Account] {
        get { accountBook.operatorAccounts }
        set { accountBook.operatorAccounts = newValue }
    }
    public var serverBans: [String: ServerBan] {
        get { accountBook.serverBans }
        set { accountBook.serverBans = newValue }
    }
    public var serverPassword: (@Sendable ([UInt8]) -> Bool)? {
        get { accountBook.serverPassword }
        set { accountBook.serverPassword = newValue }
    }
    public var decoyHash: String {
        get { accountBook.decoyHash }
        set { accountBook.decoyHash = newValue }
    }
    public var authLimits: AuthLimits {
        get { accountBook.limits }
        set { accountBook.limits = newValue }
    }
    public var confirmsAccountWrites: Bool {
        get { accountBook.confirmsWrites }
        set { accountBook.confirmsWrites = newValue }
    }
    /// The next password job for the hashing thread, in fair order; the I/O layer takes one
    /// whenever the thread is free.
    public func nextPasswordJob() -> AuthJob? { accountBook.passwordQueue.next() }

    /// A hashing result is back (PasswordFlow.swift).
    public func authFinished(_ result: AuthResult) { PasswordFlow.finished(self, result) }

    /// The database committed (`error` nil) or refused an account change (PasswordFlow.swift).
    public func accountWriteFinished(ticket: UInt64, error: String?) { PasswordFlow.storeFinished(self, ticket: ticket, error: error) }
}
