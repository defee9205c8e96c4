import ChatCore
import EventIO

/// Accounts on the server: the hashing thread and its inbox, account writes the clients wait
/// on, the server password, the pauses after a wrong one, input held while a password command
/// is pending, operators, and the figures `/stats` shows.
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
            hub.confirmsAccountWrites = true
        }
        logOperators()
    }

    /// From `flushAll`, the one place the hub's effects are applied: history and account
    /// changes to the store writer, password jobs to the hashing thread (as many as it has
    /// room for, in the hub's fair order), account writes to the database, reads paused or
    /// resumed, penalties applied. Applying some (a job failed at once without a hasher) lets
    /// the hub ask for more, so this takes again until nothing is asked.
    func applyHubEffects() {
        while case let effects = hub.takeEffects(passwordJobs: passwordWork.room), !effects.isEmpty {
            handOver(effects.history, accountChanges: effects.accountChanges)
            for job in effects.passwordJobs {
                counters.passwordJobsQueued &+= 1
                if !passwordWork.submit(job) { hub.authFinished(AuthResult(job: job, outcome: .failed)) }
            }
            if !effects.accountWrites.isEmpty {
                if let writer = store.writer, let inbox = passwordWork.writeReports {
                    writer.submit(effects.accountWrites) { inbox.post($0) }
                } else {
                    for write in effects.accountWrites { hub.accountWriteFinished(ticket: write.ticket, error: "the database is closed") }
                }
            }
            applyInputHolds(effects.inputHoldChanges)
            applyPenalties(effects.penalties)
        }
    }

    private func applyPenalties(_ penalties: [(ClientID, Double)]) {
        let now = reactor.now
        for (id, seconds) in penalties {
            guard let connection = connection(id), !connection.isClosed else { continue }
            if connection.inputHeldForPassword {
                connection.penaltyBeforeHold = now + seconds
                continue
            }
            connection.stopReading(reactor.loop)
            if connection.penaltyUntil == nil { penalisedClients.append(id) }
            connection.penaltyUntil = now + seconds
        }
    }

    /// Pauses reading a client whose input the hub holds (a password command is pending) and
    /// resumes it once the hub lets go. Implemented as a penalty without an end, so the flood
    /// timer and `endPenalties` leave the socket alone meanwhile. Bytes already read stay in
    /// the connection's held input (`mayTakeLine` frames nothing while the hub holds); the
    /// held-input timer frames them once the hub lets go, then reading resumes.
    private func applyInputHolds(_ changes: [ClientID]) {
        for id in changes {
            guard let connection = connection(id), !connection.isClosed else { continue }
            if hub.isHoldingInput(id) {
                guard !connection.inputHeldForPassword else { continue }
                connection.inputHeldForPassword = true
                connection.stopReading(reactor.loop)
                if connection.penaltyUntil == nil { penalisedClients.append(id) }
                connection.penaltyBeforeHold = connection.penaltyUntil
                connection.penaltyUntil = .infinity
            } else {
                guard connection.inputHeldForPassword else { continue }
                connection.inputHeldForPassword = false
                let earlier = connection.penaltyBeforeHold
                connection.penaltyBeforeHold = nil
                if let earlier, earlier > reactor.now {
                    connection.penaltyUntil = earlier  // `endPenalties` resumes it
                    continue
                }
                connection.penaltyUntil = nil
                if connection.peerClosed && connection.heldInput.isEmpty && !connection.closeAfterFlush {
                    input.endOfInput(connection, for: self)  // it waited for this answer
                    continue
                }
                if connection.heldInput.isEmpty && !connection.closeAfterFlush && !connection.peerClosed {
                    connection.startReading(reactor.loop)
                }
            }
        }
    }

    /// Resumes reading clients whose pause is over (once a second, from housekeeping).
    func endPenalties() {
        guard !penalisedClients.isEmpty else { return }
        let now = reactor.now
        penalisedClients.removeAll { id in
            guard let connection = connection(id), !connection.isClosed, let until = connection.penaltyUntil else { return true }
            guard until <= now else { return false }
            connection.penaltyUntil = nil
            if connection.heldInput.isEmpty && !connection.closeAfterFlush && !connection.peerClosed {
                connection.startReading(reactor.loop)
            }
            return true
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
