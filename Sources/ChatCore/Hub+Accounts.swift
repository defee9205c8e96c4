/// The server password, accounts and login rate limits. Password checks and hashes run on the
/// I/O layer's hashing thread: a handler here validates, queues an `AuthJob`, and
/// `authFinished` completes the command when the result comes back. One job per client at a
/// time; every attempt costs a token from the address's bucket.
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
        var bucket = attemptBuckets[state.host] ?? TokenBucket(rate: 1 / authLimits.attemptIntervalSeconds, burst: authLimits.attemptBurst, now: now)
        let allowed = bucket.take(now: now)
        if attemptBuckets.count >= 10_000 && attemptBuckets[state.host] == nil {
            attemptBuckets = attemptBuckets.filter { !$0.value.isFull(now: now) }  // forget idle addresses
        }
        attemptBuckets[state.host] = bucket
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

    private func startJob(_ id: ClientID, _ purpose: AuthJob.Purpose, _ work: AuthJob.Work) {
        guard let state = client(id) else { return }
        update(id) { $0.authInFlight = true }
        pendingAuthJobs.append(AuthJob(client: id, serial: state.serial, purpose: purpose, work: work))
    }

    /// Whether the client may start password work now; otherwise the error is sent.
    private func readyForAuth(_ id: ClientID) -> Bool {
        guard let state = client(id) else { return false }
        if state.authInFlight {
            fail(id, .busy, "your previous login or password command is still being checked")
            return false
        }
        return allowAttempt(id, state)
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
        // Unknown names are checked against the decoy hash: same work, same answer, same time.
        let stored = NameRules.isValidName(Substring(name)) ? accounts[NameRules.fold(name)]?.hash ?? decoyHash : decoyHash
        startJob(id, .login(name: name), .verify(password, against: stored))
    }

    func passwd(old: [UInt8], new: [UInt8], from id: ClientID) {
        guard let state = client(id) else { return }
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
        update(id) { $0.account = nil }
        rename(id, to: state.address, chosen: false)
        reply(id, "logout", "you are \(state.address) again")
    }

    /// A hashing result is back: finish the command it belonged to, if its client is still the
    /// connection that asked.
    public func authFinished(_ result: AuthResult) {
        if case .register(let name) = result.purpose { registering.remove(NameRules.fold(name)) }
        guard let state = client(result.client), state.serial == result.serial else { return }
        let id = result.client
        update(id) { $0.authInFlight = false }
        switch (result.purpose, result.outcome) {
        case (.register(let name), .hashed(let hash)):
            let key = NameRules.fold(name)
            guard accounts[key] == nil else {
                fail(id, .alreadyRegistered, "\(name) is already registered")
                return
            }
            let account = Account(name: name, hash: hash)
            accounts[key] = account
            pendingAccountChanges.append(.saveAccount(key: key, account))
            logIn(id, as: name)
            reply(id, "register", "\(name) registered; you are logged in")
        case (.login(let name), .verified):
            let key = NameRules.fold(name)
            guard let account = accounts[key] else {
                fail(id, .badLogin, "wrong name or password")
                return
            }
            if let holder = clientID(named: account.name), holder != id {
                fail(id, .alreadyLoggedIn, "\(account.name) is logged in on another connection")
                return
            }
            if let ban = activeBan(key) {
                fail(id, .banned, "the name \(account.name) is banned" + banSuffix(ban))
                return
            }
            logIn(id, as: account.name)
            reply(id, "login", "logged in as \(account.name)")
        case (.changePassword, .hashed(let hash)):
            guard let name = state.account else { return }
            let key = NameRules.fold(name)
            let account = Account(name: name, hash: hash)
            accounts[key] = account
            pendingAccountChanges.append(.saveAccount(key: key, account))
            reply(id, "passwd", "password changed")
        case (.login, _):
            fail(id, .badLogin, "wrong name or password")
        case (.changePassword, .rejected):
            fail(id, .badLogin, "the old password is wrong")
        default:
            fail(id, .serverError, "the password could not be processed; try again")
        }
    }

    private func logIn(_ id: ClientID, as name: String) {
        update(id) { $0.account = name }
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
