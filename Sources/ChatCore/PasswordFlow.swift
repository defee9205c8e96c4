/// Password work from start to reply. A handler (AccountCommands.swift) validates and calls
/// `start`, which queues an `AuthJob` in the fair `PasswordQueue`; the I/O layer runs it on
/// the hashing thread and `finished` completes the command when the result comes back (with
/// a database, `/register` and `/passwd` answer only once `storeFinished` says the change is
/// committed). One pending command per client, whose later input waits
/// (PasswordFlow+HeldInput.swift); every attempt costs a token from its source's bucket (an IPv4
/// address or an IPv6 /64).
enum PasswordFlow {
    /// Takes one attempt from the client's address bucket, or says how long to wait.
    static func allowAttempt(_ hub: Hub, _ id: ClientID, _ state: ClientState) -> Bool {
        guard let wait = hub.accountBook.takeAttempt(from: state.attemptSource, now: hub.now) else { return true }
        hub.fail(id, .rateLimited, "too many password attempts from your address; wait \(Int(wait.rounded(.up)))s and try again")
        return false
    }

    /// Logged-in users' work goes ahead of guests' (see `PasswordQueue`).
    private static func lane(of state: ClientState) -> PasswordQueue.Lane { state.account == nil ? .guest : .priority }

    /// Whether the client may start password work now; otherwise the refusal is sent. A full
    /// queue is checked first, so a refusal costs no attempt.
    static func ready(_ hub: Hub, _ id: ClientID) -> Bool {
        guard let state = hub.clients[id] else { return false }
        if state.authInFlight {  // its input is held meanwhile, so only a direct call gets here
            hub.fail(id, .busy, "your previous login or password command is still being checked")
            return false
        }
        guard hub.accountBook.passwordQueue.wouldAdmit(source: state.attemptSource, lane: lane(of: state), limits: hub.accountBook.limits) else {
            hub.refuse(id, .serverBusy)
            return false
        }
        return allowAttempt(hub, id, state)
    }

    static func start(_ hub: Hub, _ id: ClientID, _ purpose: AuthJob.Purpose, _ work: AuthJob.Work) {
        guard let state = hub.clients[id] else { return }
        let job = AuthJob(client: id, serial: state.serial, purpose: purpose, work: work)
        switch hub.accountBook.passwordQueue.add(job, source: state.attemptSource, lane: lane(of: state), limits: hub.accountBook.limits) {
        case .queued:
            break
        case .queuedDisplacing(let displaced):
            abandon(hub, displaced)
        case .refused:  // `ready` checked this; kept so a refusal can never go unanswered
            hub.accountBook.stopRegistering(purpose)
            return hub.refuse(id, .serverBusy)
        }
        beginPending(hub, id)
    }

    /// A queued job dropped to make room for another source's: its client is told, and its
    /// held input runs.
    private static func abandon(_ hub: Hub, _ job: AuthJob) {
        hub.accountBook.stopRegistering(job.purpose)
        guard let state = hub.clients[job.client], state.serial == job.serial else { return }
        hub.refuse(job.client, .serverBusy)
        endPending(hub, job.client)
    }

    /// A client left: its queued jobs are dropped, so nobody hashes for it (and the names it
    /// was registering are free again). A job already on the hashing thread comes back to a
    /// different serial and is ignored.
    static func dropWork(_ hub: Hub, of id: ClientID) {
        for job in hub.accountBook.passwordQueue.removeJobs(of: id) { hub.accountBook.stopRegistering(job.purpose) }
    }

    /// A hashing result is back: finish the command it belonged to, if its client is still the
    /// connection that asked. With a database, an account change is answered only once it is
    /// committed (`storeFinished`); the command stays pending until then.
    static func finished(_ hub: Hub, _ result: AuthResult) {
        let id = result.client
        guard let state = hub.clients[id], state.serial == result.serial else { return hub.accountBook.stopRegistering(result.purpose) }
        switch (result.purpose, result.outcome) {
        case (.register(let name), .hashed(let hash)):
            let key = NameRules.fold(name)
            let book = hub.accountBook
            guard book.accounts[key] == nil, !book.isOperatorName(key) else {  // an operator name may come with a SIGHUP
                hub.accountBook.stopRegistering(result.purpose)
                if book.isOperatorName(key) { hub.refuse(id, .operatorName(name, .alreadyRegistered)) } else { hub.refuse(id, .alreadyRegistered(name)) }
                break
            }
            if save(hub, Account(name: name, hash: hash), key: key, for: id, serial: state.serial, result.purpose) { return }
            hub.accountBook.stopRegistering(result.purpose)
            registered(hub, id, name)
        case (.login(let name), .verified):
            finishLogin(hub, id, key: NameRules.fold(name))
        case (.changePassword, .hashed(let hash)):
            guard let name = state.account else { break }
            if save(hub, Account(name: name, hash: hash), key: NameRules.fold(name), for: id, serial: state.serial, result.purpose) { return }
            hub.reply(id, "passwd", "password changed")
        case (.login, _):
            loginFailed(hub, id) { hub.refuse(id, .badLogin) }
        case (.changePassword, .rejected):
            hub.fail(id, .badLogin, "the old password is wrong")
        default:
            hub.accountBook.stopRegistering(result.purpose)
            hub.fail(id, .serverError, "the password could not be processed; try again")
        }
        endPending(hub, id)
    }

    /// Saves an account: now, or — with a database that confirms writes — once committed, in
    /// which case this returns true and the command stays pending until `storeFinished`.
    private static func save(_ hub: Hub, _ account: Account, key: String, for id: ClientID, serial: UInt64, _ purpose: AuthJob.Purpose) -> Bool {
        guard hub.accountBook.confirmsWrites else {
            hub.accountBook.save(account, key: key)
            return false
        }
        hub.accountBook.store(PendingAccountWrite(client: id, serial: serial, purpose: purpose, key: key, account: account))
        return true
    }

    /// A verified login: the client takes the account's name. A guest still holding an
    /// operator's name (reserved by a SIGHUP after the guest took it) goes back to its address.
    private static func finishLogin(_ hub: Hub, _ id: ClientID, key: String) {
        guard let (account, isOperator) = hub.accountBook.credential(forKey: key) else { return loginFailed(hub, id) { hub.refuse(id, .badLogin) } }
        if let holder = hub.clients.id(named: account.name), holder != id, let held = hub.clients[holder] {
            guard isOperator && held.account == nil else {
                return loginFailed(hub, id) { hub.fail(id, .alreadyLoggedIn, "\(account.name) is logged in on another connection") }
            }
            hub.send(.notice(.server("the name \(held.name) is reserved for a server operator, who has logged in; you are \(held.address) again")), to: holder)
            hub.rename(holder, to: held.address, chosen: false)
        }
        if let ban = hub.accountBook.activeBan(key, now: hub.now) { return loginFailed(hub, id) { hub.refuse(id, .nameBanned(account.name, ban)) } }
        logIn(hub, id, as: account.name, isOperator: isOperator)
        // An IRC client's SASL exchange answers in numerics (900/903); everyone else gets the reply.
        if IRCCommands.loginFinished(hub, id, account: account.name) { return }
        hub.reply(id, "login", "logged in as \(account.name)")
    }

    /// A login that failed: an IRC client's SASL exchange answers 904, anyone else gets `refusal`.
    private static func loginFailed(_ hub: Hub, _ id: ClientID, _ refusal: () -> Void) {
        if !IRCCommands.loginFinished(hub, id, account: nil) { refusal() }
    }

    /// The database committed (`error` nil) or refused an account change. Only a committed
    /// change takes effect; the client, if it is still there, gets its one reply now.
    static func storeFinished(_ hub: Hub, ticket: UInt64, error: String?) {
        let stored = error == nil
        guard let write = hub.accountBook.storeFinished(ticket: ticket, committed: stored) else { return }
        guard let state = hub.clients[write.client], state.serial == write.serial else { return }
        let id = write.client
        switch write.purpose {
        case .register(let name):
            if stored {
                registered(hub, id, name)
            } else {
                hub.fail(id, .serverError, "the account could not be saved (the database refused the write); try again later")
            }
        case .changePassword:
            if stored {
                hub.reply(id, "passwd", "password changed")
            } else {
                hub.fail(id, .serverError, "the new password could not be saved (the database refused the write); the old one still works")
            }
        case .login:
            break
        }
        endPending(hub, id)
    }

    /// A registration took effect (now, or once committed): the client is logged in to it.
    private static func registered(_ hub: Hub, _ id: ClientID, _ name: String) {
        logIn(hub, id, as: name, isOperator: false)
        hub.reply(id, "register", "\(name) registered; you are logged in")
    }

    private static func logIn(_ hub: Hub, _ id: ClientID, as name: String, isOperator: Bool) {
        hub.clients.logIn(id, account: name, isOperator: isOperator)
        hub.rename(id, to: name, chosen: true)
    }
}
