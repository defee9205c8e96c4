/// The server password, accounts and login rate limits. Password checks and hashes run on the
/// I/O layer's hashing thread: a handler here validates, queues an `AuthJob` in the fair
/// `PasswordQueue`, and `authFinished` completes the command when the result comes back (with
/// a database, `/register` and `/passwd` answer only once `accountWriteFinished` says the
/// change is committed). One pending command per client, whose later input waits
/// (Hub+HeldInput.swift); every attempt costs a token from its source's bucket (an IPv4
/// address or an IPv6 /64).
///
/// Operator names (`operators`, `operatorAccounts`) are reserved: nobody can register them
/// or take them with `/nick`, and a login to one is checked against the operators file's
/// hash only, so an operator account exists before any client and cannot be claimed first.
extension Hub {
    /// Commands a client may send before it has given the server password.
    static func allowedBeforePassword(_ command: Command) -> Bool {
        switch command {
        case .pass, .quit, .help, .ping: return true  // not .invalid: /bogus gets PASSWORD_REQUIRED too
        default: return false
        }
    }

    /// Takes one attempt from the client's address bucket, or says how long to wait.
    private func allowAttempt(_ id: ClientID, _ state: ClientState) -> Bool {
        let source = state.attemptSource
        var bucket = attemptBuckets[source] ?? TokenBucket(rate: 1 / authLimits.attemptIntervalSeconds, burst: authLimits.attemptBurst, now: now)
        let allowed = bucket.take(now: now)
        if attemptBuckets.count >= 10_000 && attemptBuckets[source] == nil {
            attemptBuckets = attemptBuckets.filter { !$0.value.isFull(now: now) }  // forget idle addresses
        }
        attemptBuckets[source] = bucket
        if !allowed {
            fail(id, .rateLimited, "too many password attempts from your address; wait \(Int(bucket.wait(now: now).rounded(.up)))s and try again")
        }
        return allowed
    }

    private func validPassword(_ password: [UInt8], _ id: ClientID) -> Bool {
        guard password.count >= authLimits.minPasswordBytes && password.count <= authLimits.maxPasswordBytes else {
            fail(id, .passwordInvalid, "passwords are \(authLimits.minPasswordBytes) to \(authLimits.maxPasswordBytes) bytes without spaces")
            return false
        }
        return true
    }

    /// Logged-in users' work goes ahead of guests' (see `PasswordQueue`).
    private func lane(of state: ClientState) -> PasswordQueue.Lane { state.account == nil ? .guest : .priority }

    private func startJob(_ id: ClientID, _ purpose: AuthJob.Purpose, _ work: AuthJob.Work) {
        guard let state = client(id) else { return }
        let job = AuthJob(client: id, serial: state.serial, purpose: purpose, work: work)
        switch passwordQueue.add(job, source: state.attemptSource, lane: lane(of: state), limits: authLimits) {
        case .queued:
            break
        case .queuedDisplacing(let displaced):
            abandon(displaced)
        case .refused:  // `readyForAuth` checked this; kept so a refusal can never go unanswered
            if case .register(let name) = purpose { registering.remove(NameRules.fold(name)) }
            failBusy(id)
            return
        }
        beginPending(id)
    }

    /// The next password job for the hashing thread, in fair order; the I/O layer takes one
    /// whenever the thread is free.
    public func nextPasswordJob() -> AuthJob? { passwordQueue.next() }

    /// Whether the client may start password work now; otherwise the error is sent. A full
    /// queue is checked first, so a refusal costs no attempt.
    private func readyForAuth(_ id: ClientID) -> Bool {
        guard let state = client(id) else { return false }
        if state.authInFlight {  // its input is held meanwhile, so only a direct call gets here
            fail(id, .busy, "your previous login or password command is still being checked")
            return false
        }
        guard passwordQueue.wouldAdmit(source: state.attemptSource, lane: lane(of: state), limits: authLimits) else {
            failBusy(id)
            return false
        }
        return allowAttempt(id, state)
    }

    private func failBusy(_ id: ClientID) {
        fail(id, .serverBusy, "too many password checks are waiting; try again in a few seconds")
    }

    /// A queued job dropped to make room for another source's: its client is told, and its
    /// held input runs.
    private func abandon(_ job: AuthJob) {
        if case .register(let name) = job.purpose { registering.remove(NameRules.fold(name)) }
        guard let state = client(job.client), state.serial == job.serial else { return }
        failBusy(job.client)
        endPending(job.client)
    }

    /// A client left: its queued jobs are dropped, so nobody hashes for it (and the names it
    /// was registering are free again). A job already on the hashing thread comes back to a
    /// different serial and is ignored.
    func dropPasswordWork(of id: ClientID) {
        for job in passwordQueue.removeJobs(of: id) {
            if case .register(let name) = job.purpose { registering.remove(NameRules.fold(name)) }
        }
    }

    /// Whether `key` (a folded name) belongs to a server operator.
    func isOperatorName(_ key: String) -> Bool { operators.contains(key) || operatorAccounts[key] != nil }

    /// The account a login to `key` is checked against: the operators file's for an operator
    /// name (none if the file has no line for it), else the database's.
    private func credential(forKey key: String) -> (account: Account, isOperator: Bool)? {
        if let account = operatorAccounts[key] { return (account, true) }
        if operators.contains(key) { return nil }
        return accounts[key].map { ($0, false) }
    }

    func pass(_ password: [UInt8], from id: ClientID) {
        guard let check = serverPassword else {
            reply(id, "pass", "this server has no password")
            return
        }
        guard let state = client(id) else { return }
        if state.authorised {
            reply(id, "pass", "already accepted")
            return
        }
        guard allowAttempt(id, state) else { return }
        if check(password) {
            update(id) { $0.authorised = true }
            authorisedCount += 1
            reply(id, "pass", "accepted")
            enterLobby(id)
            return
        }
        let failures = state.passwordFailures + 1
        update(id) { $0.passwordFailures = failures }
        if failures >= authLimits.maxServerPasswordFailures {
            expel(id, .badPassword, "wrong password, \(failures) times; closing the connection", reason: "wrong password")
            return
        }
        fail(id, .badPassword, "wrong password (\(failures) of \(authLimits.maxServerPasswordFailures)); wait \(failures)s")
        pendingPenalties.append((id, Double(failures)))
    }

    func register(_ name: String, password: [UInt8], from id: ClientID) {
        guard let state = client(id) else { return }
        guard NameRules.isValidName(Substring(name)) else {
            fail(id, .nickInvalid, "\"\(Sanitizer.printable(name.prefix(40)))\" is not a valid name")
            return
        }
        let key = NameRules.fold(name)
        if state.account != nil {
            fail(id, .alreadyLoggedIn, "you are logged in as \(state.account ?? ""); /logout first")
            return
        }
        if isOperatorName(key) {
            fail(id, .alreadyRegistered, "\(name) is reserved for a server operator")
            return
        }
        if accounts[key] != nil || registering.contains(key) {
            fail(id, .alreadyRegistered, "\(name) is already registered")
            return
        }
        if let owner = clientID(named: name), owner != id {
            fail(id, .nickInUse, "the name \"\(name)\" is in use")
            return
        }
        if let ban = activeBan(key) {
            fail(id, .banned, "the name \(name) is banned" + banSuffix(ban))
            return
        }
        guard validPassword(password, id), readyForAuth(id) else { return }
        registering.insert(key)
        startJob(id, .register(name: name), .hash(password))
    }

    func login(_ name: String, password: [UInt8], from id: ClientID) {
        guard let state = client(id) else { return }
        if state.account != nil {
            fail(id, .alreadyLoggedIn, "you are logged in as \(state.account ?? ""); /logout first")
            return
        }
        guard readyForAuth(id) else { return }
        // Unknown names (and operator names the operators file has no line for) are checked
        // against the decoy hash: same work, same answer, same time.
        let stored = NameRules.isValidName(Substring(name)) ? credential(forKey: NameRules.fold(name))?.account.hash ?? decoyHash : decoyHash
        startJob(id, .login(name: name), .verify(password, against: stored))
    }

    func passwd(old: [UInt8], new: [UInt8], from id: ClientID) {
        guard let state = client(id) else { return }
        if state.isOperatorLogin {
            fail(id, .usage, "operator passwords are set in the operators file (chatd hash-password), not with /passwd")
            return
        }
        guard let account = state.account, let stored = accounts[NameRules.fold(account)]?.hash else {
            fail(id, .notLoggedIn, "log in first: /login NAME PASSWORD")
            return
        }
        guard validPassword(new, id), readyForAuth(id) else { return }
        startJob(id, .changePassword, .verifyThenHash(old: old, against: stored, new: new))
    }

    func logout(from id: ClientID) {
        guard let state = client(id) else { return }
        guard state.account != nil else {
            fail(id, .notLoggedIn, "you are not logged in")
            return
        }
        update(id) {
            $0.account = nil
            $0.isOperatorLogin = false
        }
        rename(id, to: state.address, chosen: false)
        reply(id, "logout", "you are \(state.address) again")
    }

    /// A hashing result is back: finish the command it belonged to, if its client is still the
    /// connection that asked. With a database, an account change is answered only once it is
    /// committed (`accountWriteFinished`); the command stays pending until then.
    public func authFinished(_ result: AuthResult) {
        let id = result.client
        guard let state = client(id), state.serial == result.serial else {
            if case .register(let name) = result.purpose { registering.remove(NameRules.fold(name)) }
            return
        }
        switch (result.purpose, result.outcome) {
        case (.register(let name), .hashed(let hash)):
            let key = NameRules.fold(name)
            guard accounts[key] == nil, !isOperatorName(key) else {  // an operator name may come with a SIGHUP
                registering.remove(key)
                fail(id, .alreadyRegistered, isOperatorName(key) ? "\(name) is reserved for a server operator" : "\(name) is already registered")
                break
            }
            let account = Account(name: name, hash: hash)
            if confirmsAccountWrites {
                store(account, key: key, for: id, serial: state.serial, purpose: result.purpose)
                return  // still pending: answered by accountWriteFinished
            }
            registering.remove(key)
            accounts[key] = account
            pendingAccountChanges.append(.saveAccount(key: key, account))
            logIn(id, as: name, isOperator: false)
            reply(id, "register", "\(name) registered; you are logged in")
        case (.login(let name), .verified):
            finishLogin(id, key: NameRules.fold(name))
        case (.changePassword, .hashed(let hash)):
            guard let name = state.account else { break }
            let key = NameRules.fold(name)
            let account = Account(name: name, hash: hash)
            if confirmsAccountWrites {
                store(account, key: key, for: id, serial: state.serial, purpose: result.purpose)
                return
            }
            accounts[key] = account
            pendingAccountChanges.append(.saveAccount(key: key, account))
            reply(id, "passwd", "password changed")
        case (.login, _):
            fail(id, .badLogin, "wrong name or password")
        case (.changePassword, .rejected):
            fail(id, .badLogin, "the old password is wrong")
        default:
            if case .register(let name) = result.purpose { registering.remove(NameRules.fold(name)) }
            fail(id, .serverError, "the password could not be processed; try again")
        }
        endPending(id)
    }

    /// A verified login: the client takes the account's name. A guest still holding an
    /// operator's name (reserved by a SIGHUP after the guest took it) goes back to its address.
    private func finishLogin(_ id: ClientID, key: String) {
        guard let (account, isOperator) = credential(forKey: key) else {
            fail(id, .badLogin, "wrong name or password")
            return
        }
        if let holder = clientID(named: account.name), holder != id, let held = client(holder) {
            guard isOperator && held.account == nil else {
                fail(id, .alreadyLoggedIn, "\(account.name) is logged in on another connection")
                return
            }
            send(.notice(.server("the name \(held.name) is reserved for a server operator, who has logged in; you are \(held.address) again")), to: holder)
            rename(holder, to: held.address, chosen: false)
        }
        if let ban = activeBan(key) {
            fail(id, .banned, "the name \(account.name) is banned" + banSuffix(ban))
            return
        }
        logIn(id, as: account.name, isOperator: isOperator)
        reply(id, "login", "logged in as \(account.name)")
    }

    /// Hands an account change to the database; the client's reply waits for the commit.
    private func store(_ account: Account, key: String, for id: ClientID, serial: UInt64, purpose: AuthJob.Purpose) {
        nextTicket += 1
        awaitingStore[nextTicket] = PendingAccountWrite(client: id, serial: serial, purpose: purpose, key: key, account: account)
        pendingAccountWrites.append(AccountWrite(ticket: nextTicket, change: .saveAccount(key: key, account)))
    }

    /// The database committed (`error` nil) or refused an account change. Only a committed
    /// change takes effect; the client, if it is still there, gets its one reply now.
    public func accountWriteFinished(ticket: UInt64, error: String?) {
        guard let write = awaitingStore.removeValue(forKey: ticket) else { return }
        let stored = error == nil
        if stored { accounts[write.key] = write.account }
        if case .register = write.purpose { registering.remove(write.key) }
        guard let state = client(write.client), state.serial == write.serial else { return }
        let id = write.client
        switch write.purpose {
        case .register(let name):
            if stored {
                logIn(id, as: name, isOperator: false)
                reply(id, "register", "\(name) registered; you are logged in")
            } else {
                fail(id, .serverError, "the account could not be saved (the database refused the write); try again later")
            }
        case .changePassword:
            if stored {
                reply(id, "passwd", "password changed")
            } else {
                fail(id, .serverError, "the new password could not be saved (the database refused the write); the old one still works")
            }
        case .login:
            break
        }
        endPending(id)
    }

    private func logIn(_ id: ClientID, as name: String, isOperator: Bool) {
        update(id) {
            $0.account = name
            $0.isOperatorLogin = isOperator
        }
        rename(id, to: name, chosen: true)
    }

    /// Gives a client a new name, telling the rooms it shares (used by `/nick`, login, logout).
    func rename(_ id: ClientID, to name: String, chosen: Bool) {
        guard let state = client(id), state.name != name else { return }
        if state.hasChosenName { nameIndex(remove: state.name) }
        if chosen { claimName(name, for: id, replacing: nil) }
        update(id) {
            $0.name = name
            $0.hasChosenName = chosen
        }
        notifyRoomsOf(id, .notice(.renamed(old: state.name, new: name, firstName: chosen && !state.hasChosenName)))
    }

    /// An unexpired ban on `target` (folded name or address); expired ones are dropped.
    func activeBan(_ target: String) -> ServerBan? {
        guard let ban = serverBans[target] else { return nil }
        if let until = ban.until, until <= now {
            serverBans[target] = nil
            pendingAccountChanges.append(.removeBan(target: target))
            return nil
        }
        return ban
    }

    func banSuffix(_ ban: ServerBan) -> String {
        ban.until.map { " until \(Timestamp.iso8601($0))" } ?? ""
    }
}
