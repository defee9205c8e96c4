/// The server password and accounts: `/pass`, `/register`, `/login`, `/passwd`, `/logout`.
/// Checks and hashes run on the I/O layer's hashing thread (PasswordFlow.swift): a handler
/// here validates and starts the work; the reply comes when the result is back.
enum AccountCommands {
    static let entries: [CommandEntry] = [
        CommandEntry("pass", [.secret("PASSWORD")], permission: .beforePassword,
                     help: "the server password, when the server has one (before anything else)", group: .more) {
            pass($0, Array($1.arguments.bytes(0)), from: $1.client)
        },
        CommandEntry("register", [.word("NAME"), .secret("PASSWORD")],
                     help: "register NAME (yours from now on) and log in; passwords are 8-128 bytes, no spaces", group: .more) {
            register($0, $1.arguments.word(0), password: Array($1.arguments.bytes(1)), from: $1.client)
        },
        CommandEntry("login", [.word("NAME"), .secret("PASSWORD")], help: "log in to a registered name", group: .more) {
            login($0, $1.arguments.word(0), password: Array($1.arguments.bytes(1)), from: $1.client)
        },
        CommandEntry("passwd", [.secret("OLD"), .secret("NEW")], help: "change your password", group: .more) {
            passwd($0, old: Array($1.arguments.bytes(0)), new: Array($1.arguments.bytes(1)), from: $1.client)
        },
        CommandEntry("logout", help: "log out (your name goes back to your address)", group: .more) { logout($0, from: $1.client) },
    ]

    private static func pass(_ hub: Hub, _ password: [UInt8], from id: ClientID) {
        guard let check = hub.accountBook.serverPassword else { return hub.reply(id, "pass", "this server has no password") }
        guard let state = hub.clients[id] else { return }
        if state.authorised { return hub.reply(id, "pass", "already accepted") }
        guard PasswordFlow.allowAttempt(hub, id, state) else { return }
        if check(password) {
            hub.clients.admit(id)
            hub.reply(id, "pass", "accepted")
            return hub.enterLobby(id)
        }
        let failures = hub.clients.countPasswordFailure(id)
        let most = hub.accountBook.limits.maxServerPasswordFailures
        if failures >= most {
            return hub.expel(id, .badPassword, "wrong password, \(failures) times; closing the connection", reason: "wrong password")
        }
        hub.fail(id, .badPassword, "wrong password (\(failures) of \(most)); wait \(failures)s")
        hub.pendingPenalties.append((id, Double(failures)))
    }

    private static func register(_ hub: Hub, _ name: String, password: [UInt8], from id: ClientID) {
        guard let state = hub.clients[id] else { return }
        guard NameRules.isValidName(Substring(name)) else { return hub.refuse(id, .invalidName(name)) }
        let key = NameRules.fold(name)
        if let account = state.account { return hub.refuse(id, .loggedIn(as: account, "/logout first")) }
        if hub.accountBook.isOperatorName(key) { return hub.refuse(id, .operatorName(name, .alreadyRegistered)) }
        if hub.accountBook.isTaken(key) { return hub.refuse(id, .alreadyRegistered(name)) }
        if let owner = hub.clients.id(named: name), owner != id { return hub.refuse(id, .nameTaken(name)) }
        if let ban = hub.accountBook.activeBan(key, now: hub.now) { return hub.refuse(id, .nameBanned(name, ban)) }
        guard validPassword(hub, password, id), PasswordFlow.ready(hub, id) else { return }
        hub.accountBook.startRegistering(key)
        PasswordFlow.start(hub, id, .register(name: name), .hash(password))
    }

    private static func login(_ hub: Hub, _ name: String, password: [UInt8], from id: ClientID) {
        guard let state = hub.clients[id] else { return }
        if let account = state.account { return hub.refuse(id, .loggedIn(as: account, "/logout first")) }
        guard PasswordFlow.ready(hub, id) else { return }
        // Unknown names (and operator names the operators file has no line for) are checked
        // against the decoy hash: same work, same answer, same time.
        let book = hub.accountBook
        let stored = NameRules.isValidName(Substring(name)) ? book.credential(forKey: NameRules.fold(name))?.account.hash ?? book.decoyHash : book.decoyHash
        PasswordFlow.start(hub, id, .login(name: name), .verify(password, against: stored))
    }

    private static func passwd(_ hub: Hub, old: [UInt8], new: [UInt8], from id: ClientID) {
        guard let state = hub.clients[id] else { return }
        if state.isOperatorLogin {
            return hub.fail(id, .usage, "operator passwords are set in the operators file (chatd hash-password), not with /passwd")
        }
        guard let account = state.account, let stored = hub.accountBook.accounts[NameRules.fold(account)]?.hash else {
            return hub.fail(id, .notLoggedIn, "log in first: /login NAME PASSWORD")
        }
        guard validPassword(hub, new, id), PasswordFlow.ready(hub, id) else { return }
        PasswordFlow.start(hub, id, .changePassword, .verifyThenHash(old: old, against: stored, new: new))
    }

    private static func logout(_ hub: Hub, from id: ClientID) {
        guard let state = hub.clients[id] else { return }
        guard state.account != nil else { return hub.fail(id, .notLoggedIn, "you are not logged in") }
        hub.clients.logIn(id, account: nil, isOperator: false)
        hub.rename(id, to: state.address, chosen: false)
        hub.reply(id, "logout", "you are \(state.address) again")
    }

    private static func validPassword(_ hub: Hub, _ password: [UInt8], _ id: ClientID) -> Bool {
        let limits = hub.accountBook.limits
        guard password.count >= limits.minPasswordBytes && password.count <= limits.maxPasswordBytes else {
            hub.fail(id, .passwordInvalid, "passwords are \(limits.minPasswordBytes) to \(limits.maxPasswordBytes) bytes without spaces")
            return false
        }
        return true
    }
}
