import Testing
@testable import ChatCore

/// Accounts, the server password and the permission rules, with the hashing thread replaced by
/// a synchronous stand-in ("h:" + password): the rules are the hub's, not the hash's.
private final class Chat {
    let hub = Hub()

    /// `operators`: name and password of each operator-file account.
    init(password: String? = nil, operators: [String: String] = [:]) {
        if let password { hub.serverPassword = { $0 == Array(password.utf8) } }
        for (name, password) in operators { hub.operatorAccounts[NameRules.fold(name)] = Account(name: name, hash: "h:" + password) }
        hub.now = 1000
    }

    func connect(_ slot: Int, _ host: String = "127.0.0.1") {
        hub.connect(ClientID(slot), address: "\(host):\(40000 + slot)")
    }

    /// Sends a line and runs any password work it queued.
    func say(_ slot: Int, _ line: String) {
        hub.receive(Array(line.utf8), from: ClientID(slot))
        while let job = hub.nextPasswordJob() {
            let outcome: AuthResult.Outcome
            switch job.work {
            case .hash(let password): outcome = .hashed("h:" + String(decoding: password, as: UTF8.self))
            case .verify(let password, let stored): outcome = stored == "h:" + String(decoding: password, as: UTF8.self) ? .verified : .rejected
            case .verifyThenHash(let old, let stored, let new):
                outcome = stored == "h:" + String(decoding: old, as: UTF8.self) ? .hashed("h:" + String(decoding: new, as: UTF8.self)) : .rejected
            }
            hub.authFinished(AuthResult(job: job, outcome: outcome))
        }
    }

    func lines(_ slot: Int) -> [String] {
        let bytes = hub.outbox.bytes(for: ClientID(slot))
        return bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Lines for `slot` since the last flush; clears everyone's output.
    func take(_ slot: Int) -> [String] {
        let result = lines(slot)
        hub.outbox.reset()
        return result
    }

    func last(_ slot: Int) -> String? { take(slot).last }
}

@Suite struct AccountTests {
    @Test func aRegisteredNameBelongsToItsAccount() {
        let chat = Chat()
        chat.connect(0)
        chat.connect(1)
        chat.say(0, "/register alice correct-horse")
        #expect(chat.last(0) == "OK register alice registered; you are logged in")
        #expect(chat.hub.accounts["alice"]?.hash == "h:correct-horse")
        #expect(chat.hub.accountBook.pendingChanges == [.saveAccount(key: "alice", Account(name: "alice", hash: "h:correct-horse"))])
        chat.say(1, "/register ALICE another-one")
        #expect(chat.last(1) == "ERROR ALREADY_REGISTERED: ALICE is already registered")
        chat.say(1, "/login alice correct-horse")
        #expect(chat.last(1) == "ERROR ALREADY_LOGGED_IN: alice is logged in on another connection")
        chat.say(0, "/logout")
        #expect(chat.last(0) == "OK logout you are 127.0.0.1:40000 again")
        chat.say(1, "/nick Alice")
        #expect(chat.last(1) == "ERROR NICK_REGISTERED: alice is a registered name: /login alice PASSWORD")
        chat.hub.now += 60  // five attempts so far from this address: refill the bucket
        chat.say(1, "/login alice wrong-horse")
        #expect(chat.last(1) == "ERROR BAD_LOGIN: wrong name or password")
        chat.say(1, "/login nobody whatever1")
        #expect(chat.last(1) == "ERROR BAD_LOGIN: wrong name or password", "unknown names get the same answer")
        chat.say(1, "/login alice correct-horse")
        #expect(chat.last(1) == "OK login logged in as alice")
        chat.say(1, "/passwd wrong-horse battery-staple")
        #expect(chat.last(1) == "ERROR BAD_LOGIN: the old password is wrong")
        chat.say(1, "/passwd correct-horse battery-staple")
        #expect(chat.last(1) == "OK passwd password changed")
        #expect(chat.hub.accounts["alice"]?.hash == "h:battery-staple")
        chat.say(1, "/register bob short")
        #expect(chat.last(1)?.hasPrefix("ERROR ALREADY_LOGGED_IN") == true)
    }

    @Test func aNameBeingRegisteredCannotBeTakenWhileItsHashRuns() throws {
        let chat = Chat()
        chat.connect(0)
        chat.connect(1)
        chat.hub.receive(Array("/register carol long-password".utf8), from: ClientID(0))
        let queued = chat.hub.nextPasswordJob()
        let job = try #require(queued, "the hash is queued, not yet run")
        chat.say(1, "/nick Carol")
        #expect(chat.last(1) == "ERROR NICK_REGISTERED: Carol is a registered name: /login Carol PASSWORD")
        chat.hub.authFinished(AuthResult(job: job, outcome: .hashed("h:long-password")))
        #expect(chat.take(0).contains("OK register carol registered; you are logged in"))
    }

    @Test func passwordsAreBoundedAndAttemptsRateLimitedPerAddress() {
        let chat = Chat()
        chat.connect(0)
        chat.connect(1)
        chat.connect(2, "127.0.0.2")
        chat.say(0, "/register bob short")
        #expect(chat.last(0) == "ERROR PASSWORD_INVALID: passwords are 8 to 128 bytes without spaces")
        for _ in 0..<5 { chat.say(0, "/login bob guessing1") }
        chat.say(1, "/login bob guessing2")
        #expect(chat.lines(1).last?.hasPrefix("ERROR RATE_LIMITED: too many password attempts from your address; wait 3s") == true)
        chat.say(2, "/login bob guessing3")
        #expect(chat.last(2) == "ERROR BAD_LOGIN: wrong name or password", "another address has its own bucket")
        chat.hub.now += 3
        chat.say(1, "/login bob guessing4")
        #expect(chat.last(1) == "ERROR BAD_LOGIN: wrong name or password")
    }

    @Test func theServerPasswordGatesEverythingAndThreeFailuresClose() {
        let chat = Chat(password: "sesame-street")
        chat.connect(0)
        chat.connect(1)
        #expect(chat.lines(0).first?.contains("you are in no room until /pass") == true)
        #expect(chat.take(0).last == "*** this server needs a password: send /pass PASSWORD")
        chat.say(0, "/pass sesame-street")
        #expect(chat.take(0).first == "OK pass accepted")
        chat.say(1, "hello before the password")
        chat.say(1, "/nick sneaky")
        #expect(chat.lines(0).isEmpty, "nothing from an unauthorised client reaches anyone")
        #expect(chat.take(1) == ["ERROR PASSWORD_REQUIRED: this server needs a password: send /pass PASSWORD first",
                                 "ERROR PASSWORD_REQUIRED: this server needs a password: send /pass PASSWORD first"])
        chat.say(1, "/pass nope-nope")
        #expect(chat.last(1) == "ERROR BAD_PASSWORD: wrong password (1 of 3); wait 1s")
        chat.say(1, "/pass nope-nope")
        #expect(chat.hub.pendingPenalties.map(\.1) == [1, 2], "the pause grows")
        chat.say(1, "/pass nope-nope")
        #expect(chat.lines(1).last == "ERROR BAD_PASSWORD: wrong password, 3 times; closing the connection")
        #expect(chat.hub.outbox.closeRequests.contains(ClientID(1)))
    }

    @Test func ownersKeepKeysKickAndBanAndHandOver() {
        let chat = Chat()
        (0..<3).forEach { chat.connect($0) }
        chat.say(0, "/nick ann")
        chat.say(1, "/nick bob")
        chat.say(2, "/nick cy")
        chat.say(0, "/join #den")
        chat.say(0, "/key #den s3cret")
        #expect(chat.last(0) == "OK key #den key set")
        chat.say(1, "/join #den")
        #expect(chat.last(1) == "ERROR BAD_KEY: #den needs a key: /join #den KEY")
        chat.say(1, "/join #den wrong")
        #expect(chat.last(1) == "ERROR BAD_KEY: wrong key for #den")
        chat.say(1, "/join #den s3cret")
        #expect(chat.last(1) == "OK join #den 2 members")
        chat.say(1, "/topic #den mine now")
        #expect(chat.last(1) == "ERROR NOT_OWNER: only the owner of #den may set its topic")
        chat.say(1, "/kick #den ann")
        #expect(chat.last(1) == "ERROR NOT_OWNER: only the owner of #den may do that")
        chat.say(0, "/kick #den bob flooding")
        #expect(chat.lines(1).contains("*** you were removed from #den by ann (flooding)"))
        #expect(chat.take(0).last == "OK kick bob removed from #den")
        chat.say(0, "/ban #den bob")
        #expect(chat.last(0) == "OK ban bob banned from #den")
        chat.say(1, "/join #den s3cret")
        #expect(chat.last(1) == "ERROR BANNED_FROM_ROOM: you are banned from #den")
        chat.say(2, "/join #den s3cret")
        chat.say(0, "/owner #den cy")
        #expect(chat.take(0).last == "OK owner cy owns #den")
        chat.say(0, "/key #den")
        #expect(chat.last(0) == "ERROR NOT_OWNER: only the owner of #den may do that")
        chat.say(2, "/unban #den bob")
        chat.say(2, "/key #den")
        #expect(chat.take(2).suffix(2) == ["OK unban bob may join #den again", "OK key #den key removed"])
        chat.say(1, "/join #den")
        #expect(chat.last(1) == "OK join #den 3 members")
        chat.say(1, "/topic #lobby anyone may")
        #expect(chat.last(1) == "OK topic #lobby set", "the lobby has no owner")
    }

    @Test func onlyOperatorsAnnounceKillBanAndSeeStats() {
        let chat = Chat(operators: ["root": "operator-pass"])
        (0..<3).forEach { chat.connect($0) }
        chat.connect(3, "127.0.0.9")
        chat.say(1, "/nick bob")
        for command in ["/announce hi", "/kill bob", "/ban 127.0.0.9", "/stats"] {
            chat.say(1, command)
            #expect(chat.last(1)?.hasPrefix("ERROR NOT_OPERATOR: only server operators may") == true, "\(command)")
        }
        chat.say(0, "/register root operator-pass")
        #expect(chat.last(0) == "ERROR ALREADY_REGISTERED: root is reserved for a server operator")
        chat.say(0, "/login root operator-pass")
        #expect(chat.last(0) == "OK login logged in as root")
        chat.say(0, "/kill bob spamming")
        #expect(chat.lines(1).last == "ERROR KILLED: disconnected by an operator: spamming")
        #expect(chat.take(0).last == "OK kill bob")
        chat.say(0, "/ban 127.0.0.9 2h")
        #expect(chat.lines(3).last == "ERROR BANNED: you are banned from this server until 1970-01-01T02:16:40Z")
        #expect(chat.take(0).last == "OK ban 127.0.0.9 banned until 1970-01-01T02:16:40Z; 1 disconnected")
        chat.connect(4, "127.0.0.9")
        #expect(chat.take(4).last == "ERROR BANNED: this address is banned from the server until 1970-01-01T02:16:40Z")
        chat.say(0, "/ban eve")
        chat.say(2, "/nick Eve")
        #expect(chat.last(2) == "ERROR BANNED: the name Eve is banned")
        chat.say(0, "/stats")
        #expect(chat.last(0)?.hasPrefix("OK stats ") == true)
        chat.say(0, "/unban eve")
        #expect(chat.last(0) == "OK unban eve unbanned")
        chat.hub.now += 7200
        chat.connect(5, "127.0.0.9")
        #expect(chat.take(5).last?.hasPrefix("*** 127.0.0.9:40005 joined") == false, "the ban expired")
    }

    @Test func commandsParse() {
        #expect(CommandParser.parse(Array("/join #a key".utf8)).command == .join(room: "#a", key: "key"))
        #expect(CommandParser.parse(Array("/ban #a bob".utf8)).command == .roomBan(room: "#a", name: "bob"))
        #expect(CommandParser.parse(Array("/ban 127.0.0.2 30m".utf8)).command == .ban(target: "127.0.0.2", seconds: 1800))
        #expect(CommandParser.parse(Array("/ban bob forever".utf8)).command == .invalid(.usage, "usage: /ban ADDRESS|NAME [duration: 90s, 30m, 2h, 7d; at most 3650d]"))
        #expect(CommandParser.parse(Array("/login bob".utf8)).command == .invalid(.usage, "usage: /login NAME PASSWORD"))
    }
}
