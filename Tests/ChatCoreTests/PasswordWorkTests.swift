import Testing
@testable import ChatCore

/// Password work in the pure core with the hashing thread under the test's control: the fair
/// queue, attempt sources, operator names, input held while a command is pending, and account
/// changes answered only once stored. The stand-in hash is "h:" + password.
private final class Bench {
    let hub = Hub()

    init() { hub.now = 1000 }

    func connect(_ slot: Int, _ host: String = "127.0.0.1") {
        hub.connect(ClientID(slot), address: host.contains(":") ? "[\(host)]:\(40000 + slot)" : "\(host):\(40000 + slot)")
    }

    func send(_ slot: Int, _ line: String) { hub.receive(Array(line.utf8), from: ClientID(slot)) }

    /// Runs the next queued job as the hashing thread would; returns whose it was.
    @discardableResult
    func runNextJob() -> AuthJob? {
        guard let job = hub.nextPasswordJob() else { return nil }
        hub.authFinished(AuthResult(job: job, outcome: Self.outcome(job)))
        return job
    }

    func runAllJobs() { while runNextJob() != nil {} }

    static func outcome(_ job: AuthJob) -> AuthResult.Outcome {
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        switch job.work {
        case .hash(let password): return .hashed("h:" + text(password))
        case .verify(let password, let stored): return stored == "h:" + text(password) ? .verified : .rejected
        case .verifyThenHash(let old, let stored, let new): return stored == "h:" + text(old) ? .hashed("h:" + text(new)) : .rejected
        }
    }

    /// Lines for `slot` since the last call; clears everyone's output.
    func take(_ slot: Int) -> [String] {
        let lines = hub.outbox.bytes(for: ClientID(slot)).split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        hub.outbox.reset()
        return lines
    }

    func replies(_ slot: Int) -> [String] { take(slot).filter { $0.hasPrefix("OK") || $0.hasPrefix("ERROR") } }
}

private func job(_ client: Int) -> AuthJob {
    AuthJob(client: ClientID(client), serial: UInt64(client), purpose: .login(name: "x"), work: .verify([], against: ""))
}

@Suite struct PasswordWorkTests {
    // MARK: The fair queue

    @Test func sourcesAreServedRoundRobinAndANewcomerWaitsOneTurnPerActiveSource() {
        var queue = PasswordQueue()
        let limits = AuthLimits()
        // Three sources queue five jobs each (clients 10-14 from a, 20-24 from b, 30-34 from c).
        for source in ["a", "b", "c"] {
            let base = source == "a" ? 10 : source == "b" ? 20 : 30
            for index in 0..<5 { _ = queue.add(job(base + index), source: source, lane: .guest, limits: limits) }
        }
        #expect(queue.next()?.client == ClientID(10))
        _ = queue.add(job(40), source: "newcomer", lane: .guest, limits: limits)
        let order = (0..<4).compactMap { _ in queue.next()?.client.index }
        #expect(order == [20, 30, 11, 40], "the newcomer waits for one job of each source already in the round")
        let rest = (0..<20).compactMap { _ in queue.next()?.client.index }
        #expect(rest == [21, 31, 12, 22, 32, 13, 23, 33, 14, 24, 34])
        #expect(queue.count == 0)
    }

    @Test func loggedInUsersWorkGoesFirstAndTheGuestLaneIsBounded() {
        var queue = PasswordQueue()
        var limits = AuthLimits()
        limits.maxQueuedChecks = 4
        for index in 0..<4 { _ = queue.add(job(index), source: "flood", lane: .guest, limits: limits) }
        #expect(!queue.wouldAdmit(source: "flood", lane: .guest, limits: limits), "full, and the source already has work queued")
        guard case .refused = queue.add(job(9), source: "flood", lane: .guest, limits: limits) else {
            Issue.record("a full queue refuses")
            return
        }
        // A source with nothing queued displaces the newest job of the longest queue.
        guard case .queuedDisplacing(let displaced) = queue.add(job(5), source: "newcomer", lane: .guest, limits: limits) else {
            Issue.record("a newcomer gets in")
            return
        }
        #expect(displaced.client == ClientID(3))
        _ = queue.add(job(7), source: "member", lane: .priority, limits: limits)
        #expect(queue.next()?.client == ClientID(7), "a logged-in user's /passwd goes ahead of every guest")
        #expect(queue.removeJobs(of: ClientID(1)).map(\.client) == [ClientID(1)])
        let order = (0..<5).compactMap { _ in queue.next()?.client.index }
        #expect(order == [0, 5, 2])
    }

    // MARK: Attempt sources

    @Test func attemptsCountPerIPv4AddressAndPerIPv6Slash64() {
        #expect(ClientAddress.attemptSource(ofHost: "127.0.0.2") == "127.0.0.2")
        #expect(ClientAddress.attemptSource(ofHost: "2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(ClientAddress.attemptSource(ofHost: "2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64")
        #expect(ClientAddress.attemptSource(ofHost: "2001:DB8:0:0:1::") == "2001:db8::/64", "canonical text")
        #expect(ClientAddress.attemptSource(ofHost: "::1") == "::/64")
        #expect(ClientAddress.attemptSource(ofHost: "::ffff:192.0.2.7") == "192.0.2.7", "IPv4-mapped is the IPv4 address")
        #expect(ClientAddress.attemptSource(ofHost: "1:2:3") == "1:2:3", "not an address: its own key")
    }

    @Test func addressesOfOneIPv6Slash64ShareTheirAttempts() {
        let bench = Bench()
        bench.connect(0, "2001:db8:5:6::1")
        bench.connect(1, "2001:db8:5:6:ffff::99")
        bench.connect(2, "2001:db8:5:7::1")
        for slot in 0..<5 {
            bench.send(0, "/login nobody guess-\(slot)-long")
            bench.runAllJobs()
        }
        _ = bench.take(0)
        bench.send(1, "/login nobody guess-6-long")
        #expect(bench.replies(1).first?.hasPrefix("ERROR RATE_LIMITED") == true, "the same /64 spent the burst")
        bench.send(2, "/login nobody guess-7-long")
        bench.runAllJobs()
        #expect(bench.replies(2) == ["ERROR BAD_LOGIN: wrong name or password"], "the next /64 has its own")
    }

    // MARK: Replies pair with commands

    @Test func inputWaitsWhileAPasswordCommandIsPendingThenRunsInOrder() {
        let bench = Bench()
        bench.connect(0)
        bench.connect(1)
        bench.send(0, "/register carol first-password")
        bench.runAllJobs()
        #expect(bench.replies(0) == ["OK register carol registered; you are logged in"])
        bench.send(0, "/passwd first-password second-password")
        #expect(bench.hub.isHoldingInput(ClientID(0)))
        #expect(bench.hub.inputHoldChanges.contains(ClientID(0)), "the I/O layer is told to stop reading")
        bench.hub.inputHoldChanges.removeAll()
        bench.send(0, "/logout")
        bench.send(0, "held line")
        bench.send(0, "/login carol second-password")
        bench.send(0, "/ping last")
        #expect(bench.take(1).isEmpty, "nothing held has run yet")
        bench.runNextJob()  // the /passwd: then /logout, the line and the /login run; the /ping waits again
        #expect(bench.take(0) == ["OK passwd password changed", "OK logout you are 127.0.0.1:40000 again"])
        #expect(bench.hub.isHoldingInput(ClientID(0)), "the held /login is pending now")
        #expect(bench.hub.accounts["carol"]?.hash == "h:second-password")
        bench.runNextJob()
        #expect(bench.replies(0) == ["OK login logged in as carol", "OK pong last"])
        #expect(!bench.hub.isHoldingInput(ClientID(0)))
        #expect(bench.hub.inputHoldChanges == [ClientID(0), ClientID(0)], "held again for the /login, then released")
    }

    @Test func aClientThatSendsTooMuchWhileItsCommandIsPendingIsDisconnected() {
        let bench = Bench()
        bench.hub.authLimits.maxHeldInputBytes = 2048
        bench.connect(0)
        bench.send(0, "/login somebody some-password")
        for index in 0..<30 { bench.send(0, "line \(index) padded to be longer than usual") }
        #expect(bench.hub.outbox.closeRequests.contains(ClientID(0)))
        #expect(bench.take(0).last == "ERROR FLOOD: more than 2 KiB sent while a password command was pending; closing the connection")
        #expect(bench.hub.clientCount == 0)
        #expect(bench.hub.nextPasswordJob() == nil, "its queued check was dropped with it")
    }

    // MARK: Operators

    @Test func operatorNamesAreReservedAndLogInOnlyWithTheFilesHash() {
        let bench = Bench()
        bench.hub.operators = ["boss"]
        bench.hub.operatorAccounts = ["root": Account(name: "root", hash: "h:root-password")]
        bench.hub.accounts["root"] = Account(name: "root", hash: "h:stranger-password")  // registered before the file
        (0..<3).forEach { bench.connect($0) }
        bench.send(0, "/register Root anything123")
        bench.send(0, "/register boss anything123")
        bench.send(0, "/nick ROOT")
        bench.send(0, "/nick boss")
        #expect(bench.replies(0) == ["ERROR ALREADY_REGISTERED: Root is reserved for a server operator",
                                     "ERROR ALREADY_REGISTERED: boss is reserved for a server operator",
                                     "ERROR NICK_REGISTERED: ROOT is reserved for a server operator",
                                     "ERROR NICK_REGISTERED: boss is reserved for a server operator"])
        bench.send(0, "/login root stranger-password")
        bench.runAllJobs()
        #expect(bench.replies(0) == ["ERROR BAD_LOGIN: wrong name or password"], "the database account is shadowed")
        bench.send(1, "/login boss anything123")
        bench.runAllJobs()
        #expect(bench.replies(1) == ["ERROR BAD_LOGIN: wrong name or password"], "no line in the file: nobody")
        bench.send(2, "/login root root-password")
        bench.runAllJobs()
        bench.send(2, "/stats")
        let replies = bench.replies(2)
        #expect(replies.first == "OK login logged in as root")
        #expect(replies.last?.hasPrefix("OK stats ") == true)
        bench.send(2, "/passwd root-password something-else")
        #expect(bench.replies(2).first?.hasPrefix("ERROR USAGE: operator passwords are set in the operators file") == true)
        bench.hub.operatorAccounts = [:]  // a SIGHUP removed the line
        bench.send(2, "/stats")
        #expect(bench.replies(2).first?.hasPrefix("ERROR NOT_OPERATOR") == true)
    }

    @Test func anOperatorLoggingInTakesItsNameBackFromAGuest() {
        let bench = Bench()
        (0..<2).forEach { bench.connect($0) }
        bench.send(0, "/nick deputy")
        bench.hub.operatorAccounts = ["deputy": Account(name: "deputy", hash: "h:deputy-password")]  // SIGHUP
        _ = bench.take(0)
        bench.send(1, "/login deputy deputy-password")
        bench.runAllJobs()
        #expect(bench.hub.outbox.bytes(for: ClientID(0)).isEmpty == false)
        let guest = bench.take(0)
        #expect(guest.contains("*** the name deputy is reserved for a server operator, who has logged in; you are 127.0.0.1:40000 again"))
        #expect(bench.hub.name(of: ClientID(0)) == "127.0.0.1:40000")
        #expect(bench.hub.name(of: ClientID(1)) == "deputy")
    }

    @Test func theOperatorsFileIsParsedStrictly() throws {
        let accounts = try OperatorsFile.parse("# operators\n\nroot $argon2id$v=19$m=65536,t=2,p=1$abc$def\r\n  Deputy\t$argon2id$xyz \n")
        #expect(accounts == ["root": Account(name: "root", hash: "$argon2id$v=19$m=65536,t=2,p=1$abc$def"),
                             "deputy": Account(name: "Deputy", hash: "$argon2id$xyz")])
        #expect(throws: OperatorsFile.Problem.self) { try OperatorsFile.parse("root\n") }
        #expect(throws: OperatorsFile.Problem.self) { try OperatorsFile.parse("root plaintext-password\n") }
        #expect(throws: OperatorsFile.Problem.self) { try OperatorsFile.parse("#bad $argon2id$x\n#x\n1root $argon2id$x\n") }
        #expect(throws: OperatorsFile.Problem.self) { try OperatorsFile.parse("root $argon2id$a\nROOT $argon2id$b\n") }
    }

    // MARK: Account changes answered once stored

    @Test func registerAndPasswdAnswerOnlyOnceTheDatabaseCommitted() {
        let bench = Bench()
        bench.hub.confirmsAccountWrites = true
        (0..<2).forEach { bench.connect($0) }
        bench.send(0, "/register dave dave-password")
        bench.runAllJobs()
        #expect(bench.replies(0).isEmpty, "no reply before the commit")
        let write = bench.hub.accountBook.pendingWrites.removeFirst()
        #expect(write.change == .saveAccount(key: "dave", Account(name: "dave", hash: "h:dave-password")))
        bench.send(1, "/nick dave")
        #expect(bench.replies(1) == ["ERROR NICK_REGISTERED: dave is a registered name: /login dave PASSWORD"], "still reserved while it is stored")
        bench.send(0, "/ping held")
        bench.hub.accountWriteFinished(ticket: write.ticket, error: "disk I/O error")
        #expect(bench.replies(0) == ["ERROR SERVER_ERROR: the account could not be saved (the database refused the write); try again later", "OK pong held"])
        #expect(bench.hub.accounts["dave"] == nil)
        bench.send(1, "/nick dave")
        #expect(bench.replies(1) == ["OK nick dave"], "a refused registration frees the name")

        bench.send(0, "/register erin erin-password")
        bench.runAllJobs()
        let stored = bench.hub.accountBook.pendingWrites.removeFirst()
        bench.hub.accountWriteFinished(ticket: stored.ticket, error: nil)
        #expect(bench.replies(0) == ["OK register erin registered; you are logged in"])
        bench.send(0, "/passwd erin-password erin-password-2")
        bench.runAllJobs()
        let change = bench.hub.accountBook.pendingWrites.removeFirst()
        bench.hub.accountWriteFinished(ticket: change.ticket, error: "disk I/O error")
        #expect(bench.replies(0) == ["ERROR SERVER_ERROR: the new password could not be saved (the database refused the write); the old one still works"])
        #expect(bench.hub.accounts["erin"]?.hash == "h:erin-password")
    }
}
