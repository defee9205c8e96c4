import ChatCore
import EventIO

/// Accounts on the server: the hashing thread and its inbox, account writes the clients wait
/// on, the server password, operators, and applying the hub's effects (the read pauses among
/// them are `ReadPauses`').
extension ChatServer {
    /// Starts the hashing thread and sets the server password (nil: none). Before the loop
    /// runs, after `openStore`: with a database, account changes are answered only once
    /// committed.
    public func enableAccounts(serverPassword: [UInt8]?) throws {
        let hub = self.hub
        // Results may run held input (a /login with its token bucket), so the hub's clock is set.
        let inbox = AsyncInbox<AuthResult>(reactor: reactor) { [unowned self] results in
            hub.now = reactor.now
            for result in results {
                passwordWork.finished()
                hub.authFinished(result)
            }
        }
        inbox.start()
        passwordWork.start(try PasswordHasher(metrics: workerMetrics) { inbox.post($0) }, results: inbox)
        hub.decoyHash = PasswordHasher.decoyHash()
        if let serverPassword {
            let password = ServerPassword(serverPassword)
            hub.serverPassword = { password.matches($0) }
        }
        if store.isOpen {
            let writes = AsyncInbox<AccountWriteReport>(reactor: reactor) { [unowned self] reports in
                hub.now = reactor.now
                for report in reports { hub.accountWriteFinished(ticket: report.ticket, error: report.error) }
            }
            writes.start()
            passwordWork.confirmWrites(writes)
            useAccountStorage(DatabaseAccounts(server: self))
        }
        logOperators()
    }

    /// Chooses where accounts and bans are stored, once at start-up (a cluster node chooses
    /// Redis after `enableAccounts` chose the database): writes are then answered only once
    /// stored.
    func useAccountStorage(_ storage: AccountStorage) {
        accountStorage = storage
        hub.confirmsAccountWrites = true
    }

    /// From `ClientOutput.flushAll`, the one place the hub's effects are applied: history and
    /// account changes to the account storage, password jobs to the hashing thread (as many as it
    /// has room for, in the hub's fair order), account writes to the database, reads paused or
    /// resumed, penalties applied (`ReadPauses`). Applying some (a job failed at once without a hasher) lets
    /// the hub ask for more, so this takes again until nothing is asked.
    func applyHubEffects() {
        while case let effects = hub.takeEffects(passwordJobs: passwordWork.room), !effects.isEmpty {
            handOver(effects.history)
            if !effects.accountChanges.isEmpty { accountStorage?.save(effects.accountChanges) }
            for job in effects.passwordJobs {
                counters.passwordJobsQueued &+= 1
                if !passwordWork.submit(job) { hub.authFinished(AuthResult(job: job, outcome: .failed)) }
            }
            if !effects.accountWrites.isEmpty {
                if let accountStorage {
                    accountStorage.write(effects.accountWrites)
                } else {
                    for write in effects.accountWrites { hub.accountWriteFinished(ticket: write.ticket, error: "the database is closed") }
                }
            }
            readPauses.applyInputHolds(effects.inputHoldChanges, for: self)
            readPauses.applyPenalties(effects.penalties, for: self)
        }
    }

    /// Gives the hub the operator names and accounts of `config` (at start and on SIGHUP).
    func applyOperators(_ config: ServerConfig) {
        hub.operatorAccounts = config.operatorAccounts
        hub.operators = Set(config.operators.map(NameRules.fold))
    }

    /// Says which operator names nobody can log in as, and which database accounts an operator
    /// name hides (once the accounts are loaded, and after every SIGHUP).
    func logOperators() {
        for name in hub.operators.sorted() where hub.operatorAccounts[name] == nil {
            logger.warning("operator \(name) has no line in --operators-file: the name is reserved and nobody can log in as it")
        }
        for name in hub.operators.union(hub.operatorAccounts.keys).sorted() where hub.accounts[name] != nil {
            logger.warning("operator name \(name) is also a registered account; that account cannot be used while the name is an operator's")
        }
    }

    /// At exit: finish queued hashes and stop the thread.
    public func closeAccounts() {
        passwordWork.close()
    }
}
