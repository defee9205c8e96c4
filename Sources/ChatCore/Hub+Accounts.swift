/// The server password, accounts and login rate limits. Password checks and hashes run on the
/// I/O layer's hashing thread: a handler here validates, queues an `AuthJob`, and
/// `authFinished` completes the command when the result comes back. One job per client at a
/// time; every attempt costs a token from the address's bucket.
extension Hub {
    /// Commands a client may send before it has given the server password.
    static func allowedBeforePassword(_ command: Command) -> Bool {
        switch command {
        case .pass, .quit, .help, .ping, .invalid: return true
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
            send(.error(.rateLimited, "too many password attempts from your address; wait \(Int(bucket.wait(now: now).rounded(.up)))s and try again"), to: id)
        }
        return allowed
    }

    private func validPassword(_ password: [UInt8], _ id: ClientID) -> Bool {
        guard password.count >= authLimits.minPasswordBytes && password.count <= authLimits.maxPasswordBytes else {
            send(.error(.passwordInvalid, "passwords are \(authLimits.minPasswordBytes) to \(authLimits.maxPasswordBytes) bytes without spaces"), to: id)
            return false
        }
        return true
    }

    private func startJob(_ id: ClientID, _ purpose: AuthJob.Purpose, _ work: AuthJob.Work) {
        guard let state = client(id) else { return }
        update(id) { $0.authInFlight = true }
        pendingAuthJobs.append(AuthJob(client: id, serial: state.serial, purpose: purpose, work: work))
    }

    /// The client's state if it may start password work now; otherwise the error is sent.
    private func readyForAuth(_ id: ClientID) -> ClientState? {
        guard let state = client(id) else { return nil }
        if state.authInFlight {
            send(.error(.busy, "your previous login or password command is still being checked"), to: id)
            return nil
        }
        return allowAttempt(id, state) ? state : nil
    }

    func pass(_ password: [UInt8], from id: ClientID) {
        guard let check = serverPassword else {
            send(.reply(command: "pass", text: "this server has no password", final: true), to: id)
            return
        }
        guard let state = client(id) else { return }
        if state.authorised {
            send(.reply(command: "pass", text: "already accepted", final: true), to: id)
            return
        }
        guard allowAttempt(id, state) else { return }
        if check(password) {
            update(id) { $0.authorised = true }
            send(.reply(command: "pass", text: "accepted", final: true), to: id)
            enterLobby(id)
            return
        }
        let failures = state.passwordFailures + 1
        update(id) { $0.passwordFailures = failures }
        if failures >= authLimits.maxServerPasswordFailures {
            expel(id, .badPassword, "wrong password, \(failures) times; closing the connection", reason: "wrong password")
            return
        }
        send(.error(.badPassword, "wrong password (\(failures) of \(authLimits.maxServerPasswordFailures)); wait \(failures)s"), to: id)
        pendingPenalties.append((id, Double(failures)))
    }

    func register(_ name: String, password: [UInt8], from id: ClientID) {
        guard let state = client(id) else { return }
        guard NameRules.isValidName(Substring(name)) else {
            send(.error(.nickInvalid, "\"\(Sanitizer.printable(name.prefix(40)))\" is not a valid name"), to: id)
            return
        }
        let key = NameRules.fold(name)
        if state.account != nil {
            send(.error(.alreadyLoggedIn, "you are logged in as \(state.account ?? ""); /logout first"), to: id)
            return
        }
        if accounts[key] != nil || registering.contains(key) {
            send(.error(.alreadyRegistered, "\(name) is already registered"), to: id)
            return
        }
        if let owner = clientID(named: name), owner != id {
            send(.error(.nickInUse, "the name \"\(name)\" is in use"), to: id)
            return
        }
        if let ban = activeBan(key) {
            send(.error(.banned, "the name \(name) is banned" + banSuffix(ban)), to: id)
            return
        }
        guard validPassword(password, id), readyForAuth(id) != nil else { return }
        registering.insert(key)
        startJob(id, .register(name: name), .hash(password))
    }

    func login(_ name: String, password: [UInt8], from id: ClientID) {
        guard let state = client(id) else { return }
        if state.account != nil {
            send(.error(.alreadyLoggedIn, "you are logged in as \(state.account ?? ""); /logout first"), to: id)
            return
        }
        guard readyForAuth(id) != nil else { return }
        // Unknown names are checked against the decoy hash: same work, same answer, same time.
        let stored = NameRules.isValidName(Substring(name)) ? accounts[NameRules.fold(name)]?.hash ?? decoyHash : decoyHash
        startJob(id, .login(name: name), .verify(password, against: stored))
    }

    func passwd(old: [UInt8], new: [UInt8], from id: ClientID) {
        guard let state = client(id) else { return }
        guard let account = state.account, let stored = accounts[NameRules.fold(account)]?.hash else {
            send(.error(.notLoggedIn, "log in first: /login NAME PASSWORD"), to: id)
            return
        }
        guard validPassword(new, id), readyForAuth(id) != nil else { return }
        startJob(id, .changePassword, .verifyThenHash(old: old, against: stored, new: new))
    }

    func logout(from id: ClientID) {
        guard let state = client(id) else { return }
        guard state.account != nil else {
            send(.error(.notLoggedIn, "you are not logged in"), to: id)
            return
        }
        update(id) { $0.account = nil }
        rename(id, to: state.address, chosen: false)
        send(.reply(command: "logout", text: "you are \(state.address) again", final: true), to: id)
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
                send(.error(.alreadyRegistered, "\(name) is already registered"), to: id)
                return
            }
            let account = Account(name: name, hash: hash)
            accounts[key] = account
            pendingAccountChanges.append(.saveAccount(key: key, account))
            logIn(id, as: name)
            send(.reply(command: "register", text: "\(name) registered; you are logged in", final: true), to: id)
        case (.login(let name), .verified):
            let key = NameRules.fold(name)
            guard let account = accounts[key] else {
                send(.error(.badLogin, "wrong name or password"), to: id)
                return
            }
            if let holder = clientID(named: account.name), holder != id {
                send(.error(.alreadyLoggedIn, "\(account.name) is logged in on another connection"), to: id)
                return
            }
            if let ban = activeBan(key) {
                send(.error(.banned, "the name \(account.name) is banned" + banSuffix(ban)), to: id)
                return
            }
            logIn(id, as: account.name)
            send(.reply(command: "login", text: "logged in as \(account.name)", final: true), to: id)
        case (.changePassword, .hashed(let hash)):
            guard let name = state.account else { return }
            let key = NameRules.fold(name)
            let account = Account(name: name, hash: hash)
            accounts[key] = account
            pendingAccountChanges.append(.saveAccount(key: key, account))
            send(.reply(command: "passwd", text: "password changed", final: true), to: id)
        case (.login, _):
            send(.error(.badLogin, "wrong name or password"), to: id)
        case (.changePassword, .rejected):
            send(.error(.badLogin, "the old password is wrong"), to: id)
        default:
            send(.error(.serverError, "the password could not be processed; try again"), to: id)
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
