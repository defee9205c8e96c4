import ChatTestSupport
import Foundation
import Testing

/// The account gaps of issue 12, against the real binary over real sockets: operator names,
/// fair password checks, a database that cannot be written, replies that pair with commands
/// while a hash runs, and the server password left in /proc/PID/environ.
@Suite final class AuthHardeningTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "chatd-auth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// The first `OK` or `ERROR` line: the reply to the command just sent.
    private func reply(_ client: TestClient, timeout: Double = 10) -> String? {
        client.waitFor(timeout: timeout) { $0.hasPrefix("OK") || $0.hasPrefix("ERROR") }
    }

    // MARK: 1. Operator names

    @Test func aStrangerCannotRegisterOrTakeAnOperatorsName() throws {
        let daemon = try Daemon(["--operators", "root"])
        let stranger = try daemon.client()
        stranger.send("/register root anything123")
        #expect(reply(stranger) == "ERROR ALREADY_REGISTERED: root is reserved for a server operator")
        stranger.send("/nick Root")
        #expect(reply(stranger) == "ERROR NICK_REGISTERED: Root is reserved for a server operator")
        stranger.send("/login root anything123")
        #expect(reply(stranger) == "ERROR BAD_LOGIN: wrong name or password", "no operators file: nobody can log in as root")
        stranger.send("/stats")
        #expect(reply(stranger)?.hasPrefix("ERROR NOT_OPERATOR") == true)
        #expect(daemon.waitForLog("operator root has no line in --operators-file"))
    }

    @Test func operatorsLogInWithTheHashFromTheOperatorsFileWhichSIGHUPReloads() throws {
        let file = directory + "/operators"
        let rootHash = try Daemon.hashPassword("r00t-password")
        #expect(rootHash.hasPrefix("$argon2id$"))
        try "# name and crypto_pwhash_str hash\nroot \(rootHash)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["--operators-file", file])
        #expect(!daemon.log.contains("r00t-password"))
        let stranger = try daemon.client()
        stranger.send("/register root anything123")
        #expect(reply(stranger) == "ERROR ALREADY_REGISTERED: root is reserved for a server operator")
        stranger.send("/login root anything123")
        #expect(reply(stranger) == "ERROR BAD_LOGIN: wrong name or password")
        let root = try daemon.client()
        root.send("/login root r00t-password")
        #expect(reply(root) == "OK login logged in as root")
        root.send("/stats")
        #expect(reply(root)?.hasPrefix("OK stats ") == true)
        root.send("/passwd r00t-password another-password")
        #expect(reply(root)?.hasPrefix("ERROR USAGE: operator passwords are set in the operators file") == true)

        // A second operator appears on SIGHUP; a guest already using that name loses it when
        // the operator logs in.
        let guest = try daemon.client(named: "deputy")
        let deputyHash = try Daemon.hashPassword("d3puty-password")
        try "root \(rootHash)\ndeputy \(deputyHash)\n".write(toFile: file, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.waitForLog("SIGHUP: settings reloaded"))
        stranger.send("/register deputy anything123")
        #expect(reply(stranger) == "ERROR ALREADY_REGISTERED: deputy is reserved for a server operator")
        let deputy = try daemon.client()
        deputy.send("/login deputy d3puty-password")
        #expect(reply(deputy) == "OK login logged in as deputy")
        #expect(guest.waitFor { $0.hasPrefix("*** the name deputy") }?.contains("reserved") == true)
        deputy.send("/stats")
        #expect(reply(deputy)?.hasPrefix("OK stats ") == true)

        // A broken file is refused as a whole on SIGHUP; the operators stay as they were.
        try "root not-a-hash\n".write(toFile: file, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.waitForLog("keeping the current settings"))
        root.send("/stats")
        #expect(reply(root)?.hasPrefix("OK stats ") == true)
    }

    @Test func hashPasswordRefusesAPasswordAccountsWouldRefuse() throws {
        let tool = try Spawned(Daemon.binary, ["hash-password"])
        tool.write("short\n")
        tool.closeInput()
        #expect(tool.waitForExit() == 1)
        #expect(tool.errorOutput.hasPrefix("chatd hash-password: passwords are 8 to 128 bytes"))
        #expect(tool.output.isEmpty)
    }

    // MARK: 2. Fair password checks

    @Test func aLegitimateLoginIsNotQueuedBehindGuessesFromManyAddresses() throws {
        let daemon = try Daemon(["--max-line-rate", "0"])
        let owner = try daemon.client(from: "127.0.0.100")
        owner.send("/register alice correct-horse-1")
        #expect(reply(owner) == "OK register alice registered; you are logged in")
        owner.send("/logout")
        #expect(reply(owner)?.hasPrefix("OK logout") == true)

        // 40 addresses, each spending its burst of 5 attempts on 5 connections.
        var attackers: [TestClient] = []
        for host in 2...41 {
            for _ in 0..<5 { attackers.append(try daemon.client(from: "127.0.0.\(host)")) }
        }
        let legitimate = try daemon.client(from: "127.0.0.101")
        for (index, attacker) in attackers.enumerated() { attacker.send("/login alice guess-number-\(index)") }
        var answers = [String?](repeating: nil, count: attackers.count)
        func collect() {
            for index in answers.indices where answers[index] == nil {
                // Skip the join notices of the later connections.
                while let line = attackers[index].readLine(timeout: 0.001) {
                    if line.hasPrefix("OK") || line.hasPrefix("ERROR") {
                        answers[index] = line
                        break
                    }
                }
            }
        }
        // The first answer means the guesses were read and the hashing thread is at work.
        let deadline = now() + 30
        while answers.allSatisfy({ $0 == nil }) && now() < deadline { collect() }
        legitimate.send("/login alice correct-horse-1")
        #expect(reply(legitimate, timeout: 60) == "OK login logged in as alice")
        collect()
        let checkedFirst = answers.filter { $0 == "ERROR BAD_LOGIN: wrong name or password" }.count
        #expect(checkedFirst < 100, "the login waited for \(checkedFirst) of 200 guesses; round robin allows about one per address")

        // Every guess still gets exactly one answer: checked, or refused while the queue is full.
        let end = now() + 60
        while answers.contains(where: { $0 == nil }) && now() < end { collect() }
        let busy = answers.filter { $0?.hasPrefix("ERROR SERVER_BUSY:") == true }.count
        let checked = answers.filter { $0 == "ERROR BAD_LOGIN: wrong name or password" }.count
        #expect(busy + checked == attackers.count, "\(answers.compactMap { $0 }.filter { !$0.hasPrefix("ERROR BAD_LOGIN") && !$0.hasPrefix("ERROR SERVER_BUSY") }.prefix(3))")
        #expect(busy > 0, "200 guesses do not fit the bounded queue")
        #expect(checked > 0)
    }

    // MARK: 3. The database must be writable

    @Test(.enabled(if: getuid() == 0, "setpriv needs root to run chatd as nobody"))
    func aDatabaseFileThisUserCannotWriteIsRefusedAtStart() throws {
        let setpriv = "/usr/bin/setpriv"
        #expect(FileManager.default.isExecutableFile(atPath: setpriv), "util-linux setpriv runs the daemon as nobody")
        chmod(directory, 0o777)
        let db = directory + "/readonly.db"
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", Daemon.binary, "--port", "0", "--db", db]
        let first = try Spawned(setpriv, asNobody)
        #expect(first.waitFor("listening on", inErrors: true), "\(first.errorOutput)")
        kill(first.pid, SIGTERM)
        #expect(first.waitForExit() == 0)

        chmod(db, 0o444)
        let second = try Spawned(setpriv, asNobody)
        #expect(second.waitForExit(timeout: 10) == 1, "a read-only database is refused")
        let lines = second.errorOutput.split(separator: "\n")
        #expect(lines.count == 1, "\(second.errorOutput)")
        #expect(lines.first?.hasPrefix("chatd: history database: ") == true)
        #expect(lines.first?.contains("read-only") == true, "\(second.errorOutput)")
    }

    @Test func anAccountWriteTheDatabaseRefusesIsAnErrorNotAFalseOK() throws {
        let db = directory + "/refusing.db"
        let first = try Daemon(["--db", db])
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)
        try sqlite(db, "CREATE TRIGGER refuse_mallory BEFORE INSERT ON accounts WHEN NEW.name_key = 'mallory' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;")

        let daemon = try Daemon(["--db", db])
        let client = try daemon.client()
        client.send("/register mallory long-enough-1")
        #expect(reply(client)?.hasPrefix("ERROR SERVER_ERROR: the account could not be saved") == true)
        client.send("/nick mallory")
        #expect(reply(client) == "OK nick mallory", "the name was not registered")
        client.send("/register bob long-enough-2")
        #expect(reply(client) == "OK register bob registered; you are logged in")

        try sqlite(db, "CREATE TRIGGER refuse_bob BEFORE INSERT ON accounts WHEN NEW.name_key = 'bob' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;")
        client.send("/passwd long-enough-2 changed-pass-3")
        #expect(reply(client)?.hasPrefix("ERROR SERVER_ERROR: the new password could not be saved") == true)
        client.send("/logout")
        #expect(reply(client)?.hasPrefix("OK logout") == true)
        client.send("/login bob long-enough-2")
        #expect(reply(client) == "OK login logged in as bob", "the old password still works")
        #expect(daemon.log.contains("refused by the test"))
    }

    private func sqlite(_ db: String, _ sql: String) throws {
        let tool = try Spawned("/usr/bin/sqlite3", [db, sql])
        guard tool.waitForExit() == 0 else { throw TestError("sqlite3: \(tool.errorOutput)") }
    }

    // MARK: 4. Replies pair with commands while a hash runs

    @Test func passwdAndLogoutInOneWriteGetTwoRepliesInOrder() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        client.send("/register carol first-password")
        #expect(reply(client) == "OK register carol registered; you are logged in")
        client.sendRaw(Array("/passwd first-password second-password\n/logout\n/ping after\n".utf8))
        let replies = [reply(client), reply(client), reply(client)]
        #expect(replies[0] == "OK passwd password changed")
        #expect(replies[1]?.hasPrefix("OK logout you are 127.0.0.1:") == true, "\(replies)")
        #expect(replies[2] == "OK pong after")
        client.send("/login carol second-password")
        #expect(reply(client) == "OK login logged in as carol")
    }

    // MARK: 5. The server password leaves the environment block

    @Test func theServerPasswordIsErasedFromProcEnviron() throws {
        let secret = "environ-secret-7q"
        let daemon = try Daemon([], environment: ["CHATD_PASSWORD": secret])
        let block = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(daemon.pid)/environ"))
        #expect(!block.isEmpty)
        #expect(block.range(of: Data(secret.utf8)) == nil, "the password is still readable in /proc/\(daemon.pid)/environ")
        let client = try daemon.client()
        client.send("/pass \(secret)")
        #expect(reply(client) == "OK pass accepted")
    }
}
