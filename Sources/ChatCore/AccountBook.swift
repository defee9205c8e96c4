/// Accounts, operators, server bans and the bookkeeping of password work: who is registered,
/// whose names are reserved, who is banned, and which password jobs and store writes are
/// outstanding. Pure data with the rules that keep it consistent; the command flows that use
/// it are in AccountCommands.swift and PasswordFlow.swift.
///
/// Operator names (`operators`, `operatorAccounts`) are reserved: nobody can register them
/// or take them with `/nick`, and a login to one is checked against the operators file's
/// hash only, so an operator account exists before any client and cannot be claimed first.
struct AccountBook {
    /// Registered accounts by folded name.
    var accounts: [String: Account] = [:]
    /// Folded names reserved for server operators (`--operators`) besides those in
    /// `operatorAccounts`: nobody can register, take or log in as them.
    var operators: Set<String> = []
    /// Operator accounts from the operators file, by folded name: their names are reserved and
    /// a login as one is checked against the file's hash, never a database account.
    var operatorAccounts: [String: Account] = [:]
    /// Server-wide bans by target (folded name, or an address or range in canonical text).
    var serverBans: [String: ServerBan] = [:] {
        didSet { addressBans = AddressBanIndex(serverBans) }
    }
    /// The address bans in `serverBans`, parsed.
    private(set) var addressBans = AddressBanIndex()
    /// Checks a `/pass` attempt (constant-time, in the I/O layer); nil: no server password.
    var serverPassword: (@Sendable ([UInt8]) -> Bool)?
    /// A real hash of a random password: `/login` to a name that does not exist verifies
    /// against it, so the answer takes as long as for a real account and the timing does not
    /// tell which names are registered.
    var decoyHash = ""
    var limits = AuthLimits()
    /// Whether a database stores accounts: then `/register` and `/passwd` answer only once
    /// their change is committed (`pendingWrites`, `Hub.accountWriteFinished`).
    var confirmsWrites = false
    /// Account and ban changes for the database writer.
    var pendingChanges: [AccountChange] = []
    /// Account changes whose clients wait for the commit, for the database writer.
    var pendingWrites: [AccountWrite] = []
    /// Password work waiting for the hashing thread, in fair order.
    var passwordQueue = PasswordQueue()
    /// Account writes handed to the database, by ticket, until the commit is reported.
    private var awaitingStore: [UInt64: PendingAccountWrite] = [:]
    private var nextTicket: UInt64 = 0
    private var attemptBuckets: [String: TokenBucket] = [:]
    /// Names whose registration is being hashed, so two clients cannot register one name.
    private(set) var registering: Set<String> = []

    init() {}

    /// Whether the client is logged in as an operator of the operators file (a SIGHUP may
    /// have removed the account since).
    func isOperator(_ state: ClientState?) -> Bool {
        guard let state, state.isOperatorLogin, let account = state.account else { return false }
        return operatorAccounts[NameRules.fold(account)] != nil
    }

    /// Whether `key` (a folded name) belongs to a server operator.
    func isOperatorName(_ key: String) -> Bool { operators.contains(key) || operatorAccounts[key] != nil }

    /// Whether `key` is registered or being registered.
    func isTaken(_ key: String) -> Bool { accounts[key] != nil || registering.contains(key) }

    /// The account a login to `key` is checked against: the operators file's for an operator
    /// name (none if the file has no line for it), else the database's.
    func credential(forKey key: String) -> (account: Account, isOperator: Bool)? {
        if let account = operatorAccounts[key] { return (account, true) }
        if operators.contains(key) { return nil }
        return accounts[key].map { ($0, false) }
    }

    mutating func startRegistering(_ key: String) { registering.insert(key) }

    mutating func stopRegistering(_ purpose: AuthJob.Purpose) {
        if case .register(let name) = purpose { registering.remove(NameRules.fold(name)) }
    }

    /// Saves an account now and queues it for the database writer.
    mutating func save(_ account: Account, key: String) {
        accounts[key] = account
        pendingChanges.append(.saveAccount(key: key, account))
    }

    /// Hands an account change to the database; the client's reply waits for the commit.
    mutating func store(_ write: PendingAccountWrite) {
        nextTicket += 1
        awaitingStore[nextTicket] = write
        pendingWrites.append(AccountWrite(ticket: nextTicket, change: .saveAccount(key: write.key, write.account)))
    }

    /// The database answered for `ticket`: the write it was, applied if it was committed.
    mutating func storeFinished(ticket: UInt64, committed: Bool) -> PendingAccountWrite? {
        guard let write = awaitingStore.removeValue(forKey: ticket) else { return nil }
        if committed { accounts[write.key] = write.account }
        if case .register = write.purpose { registering.remove(write.key) }
        return write
    }

    /// Takes one attempt from the source's bucket; nil if allowed, else the seconds to wait.
    mutating func takeAttempt(from source: String, now: Double) -> Double? {
        var bucket = attemptBuckets[source] ?? TokenBucket(rate: 1 / limits.attemptIntervalSeconds, burst: limits.attemptBurst, now: now)
        let allowed = bucket.take(now: now)
        if attemptBuckets.count >= 10_000 && attemptBuckets[source] == nil {
            attemptBuckets = attemptBuckets.filter { !$0.value.isFull(now: now) }  // forget idle addresses
        }
        attemptBuckets[source] = bucket
        return allowed ? nil : bucket.wait(now: now)
    }

    // MARK: Server bans

    /// An unexpired ban on `target` (folded name or address); expired ones are dropped.
    mutating func activeBan(_ target: String, now: Double) -> ServerBan? {
        guard let ban = serverBans[target] else { return nil }
        if let until = ban.until, until <= now {
            serverBans[target] = nil
            pendingChanges.append(.removeBan(target: target))
            return nil
        }
        return ban
    }

    /// An unexpired server ban covering `address`; expired ones are dropped on the way.
    mutating func activeAddressBan(covering address: IPAddress, now: Double) -> ServerBan? {
        for key in addressBans.keys(covering: address) {
            if let ban = activeBan(key, now: now) { return ban }
        }
        return nil
    }

    /// The key a ban on `range` is stored under, so every spelling finds it.
    func key(for range: AddressRange) -> String? { addressBans.key(for: range) }

    mutating func addBan(_ ban: ServerBan) {
        serverBans[ban.target] = ban
        pendingChanges.append(.saveBan(ban))
    }

    /// Lifts a ban; false when there was none.
    mutating func removeBan(_ key: String) -> Bool {
        guard serverBans.removeValue(forKey: key) != nil else { return false }
        pendingChanges.append(.removeBan(target: key))
        return true
    }
}
