import ChatTestSupport
import Foundation
import Testing

/// Extreme numbers from every place a number enters chatd — the command line, the
/// environment, the `--config` file on SIGHUP, a client's command, a database row — are
/// refused or clamped with a reason, never a trap (issue 11), and a bad option is one line
/// and exit status 1 (issue 12).
@Suite struct NumbersTests {
    /// Numbers that trapped somewhere, or that `Double` reads although no setting means them.
    static let extremes = ["1e20", "1e19", "1e300", "inf", "-inf", "nan", "-0", "0x10", "9223372036854775808", "-9223372036854775809"]

    /// Runs the binary with `arguments` and expects it to refuse them: exit 1, one line.
    func expectOneLineRefusal(_ arguments: [String], environment: [String: String] = [:], mentioning text: String) throws {
        let chatd = try Spawned(Daemon.binary, ["--port", "0", "--no-history"] + arguments, environment: environment)
        let status = chatd.waitForExit(timeout: 10)
        let lines = chatd.errorOutput.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(status == 1, "\(arguments) \(environment): exit \(String(describing: status)); \(chatd.errorOutput)")
        #expect(lines.count == 1 && lines.first?.hasPrefix("chatd: ") == true, "\(arguments) \(environment): \(chatd.errorOutput)")
        #expect(chatd.errorOutput.contains(text), "\(arguments) \(environment): \(chatd.errorOutput)")
        #expect(chatd.output.isEmpty, "nothing on stdout: \(chatd.output)")
    }

    @Test func extremeNumbersOnTheCommandLineAreOneLineAndExitOne() throws {
        for option in ["--max-clients", "--idle-timeout", "--output-hard-limit", "--commit-window", "--history-max-days"] {
            for value in ["1e20", "inf", "nan", "0x10", "9223372036854775808"] {
                try expectOneLineRefusal([option, value], mentioning: "The value '\(value)' is invalid for '\(option)")
            }
        }
        try expectOneLineRefusal(["--idle-timeout", "1e19"], mentioning: "expected a number of seconds from 0 to 315360000 (10 years)")
        try expectOneLineRefusal(["--port", "70000"], mentioning: "expected a whole number from 0 to 65535")
        try expectOneLineRefusal(["--bogus"], mentioning: "chatd: Unknown option '--bogus'")
        try expectOneLineRefusal(["--output-soft-limit", "100000", "--output-hard-limit", "70000"], mentioning: "must not exceed")
    }

    @Test func extremeNumbersInTheEnvironmentAreOneLineAndExitOne() throws {
        try expectOneLineRefusal([], environment: ["CHATD_IDLE_TIMEOUT": "1e19"],
                                 mentioning: "(CHATD_IDLE_TIMEOUT=1e19 is set in the environment)")
        try expectOneLineRefusal([], environment: ["CHATD_MAX_CLIENTS": "1e20"], mentioning: "CHATD_MAX_CLIENTS=1e20")
        try expectOneLineRefusal([], environment: ["CHATD_OUTPUT_HARD_LIMIT": "inf"], mentioning: "CHATD_OUTPUT_HARD_LIMIT=inf")
        try expectOneLineRefusal([], environment: ["CHATD_MAX_LINE_RATE": "nan"], mentioning: "expected a number of lines per second")
    }

    @Test func helpStillPrintsHelpAndExitsZero() throws {
        let chatd = try Spawned(Daemon.binary, ["--help"])
        #expect(chatd.waitForExit(timeout: 10) == 0)
        #expect(chatd.output.contains("USAGE:"), "\(chatd.output)")
        let serve = try Spawned(Daemon.binary, ["serve", "--help"])
        #expect(serve.waitForExit(timeout: 10) == 0)
        #expect(serve.output.contains("(16 to 1048576;"), "the ranges are in the help: \(serve.output)")
    }

    @Test func anExtremeNumberInTheConfigFileIsAOneLineStartError() throws {
        let path = NSTemporaryDirectory() + "chatd-numbers-\(UUID().uuidString).conf"
        defer { unlink(path) }
        try "idle-timeout = 1e300\n".write(toFile: path, atomically: true, encoding: .utf8)
        try expectOneLineRefusal(["--config", path], mentioning: "the value '1e300' is invalid for idle-timeout: expected a number of seconds")
    }

    @Test func extremeNumbersInTheConfigFileAreRefusedOnSighupAndTheOldSettingsStay() throws {
        let path = NSTemporaryDirectory() + "chatd-numbers-\(UUID().uuidString).conf"
        defer { unlink(path) }
        try "max-clients = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["--config", path])
        let first = try daemon.client(named: "first")
        let keys = ["max-clients", "max-clients-per-address", "output-hard-limit", "output-soft-limit", "idle-timeout",
                    "partial-line-timeout", "flood-seconds", "max-line-rate", "line-burst", "output-soft-seconds"]
        var refusals = 0
        for (index, key) in keys.enumerated() {
            let value = Self.extremes[index % Self.extremes.count]
            try "max-clients = 2\n\(key) = \(value)\n".write(toFile: path, atomically: true, encoding: .utf8)
            daemon.signal(SIGHUP)
            refusals += 1
            #expect(waitUntil { daemon.log.components(separatedBy: "keeping the current settings").count - 1 == refusals },
                    "\(key) = \(value) refused: \(daemon.log)")
            #expect(daemon.log.contains("the value '\(value)' is invalid for \(key): expected "), "\(key) = \(value)")
        }
        // idle-timeout = 1e300 used to be accepted and trap at the next once-a-second check.
        try "max-clients = 2\nidle-timeout = 1e300\n".write(toFile: path, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(waitUntil { daemon.log.components(separatedBy: "keeping the current settings").count - 1 == refusals + 1 })
        usleep(1_500_000)
        first.send("/ping alive")
        #expect(first.waitFor { $0.hasPrefix("OK pong") } == "OK pong alive", "the daemon is alive and serving")
        let second = try daemon.client(named: "second")
        let third = try TestClient(port: daemon.port)
        #expect(third.readLine()?.hasPrefix("ERROR SERVER_FULL") == true, "max-clients = 2 from the last good file is still in force")
        second.send("/ping")
        #expect(second.waitFor { $0.hasPrefix("OK pong") } != nil)
        #expect(!daemon.log.contains("settings reloaded"), "no bad file was applied")
    }

    @Test func extremeBanDurationsAreUsageErrorsAndTheDaemonStaysUp() throws {
        let operators = NSTemporaryDirectory() + "chatd-numbers-operators-\(UUID().uuidString)"
        try "boss \(try Daemon.hashPassword("very-long-password"))\n".write(toFile: operators, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: operators) }
        let daemon = try Daemon(["--operators-file", operators])
        let boss = try daemon.client()
        boss.send("/login boss very-long-password")
        #expect(boss.waitFor { $0.hasPrefix("OK login") } != nil)
        let victim = try daemon.client(named: "victim")
        for duration in ["1e300s", "200000000000000d", "infs", "nan", "1e19", "0x10m", "-0s", "9223372036854775808s", "3651d", "0s"] {
            boss.send("/ban victim \(duration)")
            let reply = boss.waitFor { $0.hasPrefix("OK") || $0.hasPrefix("ERROR") }
            #expect(reply?.hasPrefix("ERROR USAGE: ") == true && reply?.contains("at most 3650d") == true, "\(duration): \(String(describing: reply))")
        }
        boss.send("/history 9223372036854775808")
        #expect(boss.waitFor { $0.hasPrefix("OK") || $0.hasPrefix("ERROR") }?.hasPrefix("ERROR USAGE") == true)
        victim.send("/ping still-here")
        #expect(victim.waitFor { $0.hasPrefix("OK pong") } == "OK pong still-here", "nobody was banned, the daemon is up")
        boss.send("/ban victim 3650d")
        #expect(boss.waitFor { $0.hasPrefix("OK ban") }?.hasPrefix("OK ban victim banned until 20") == true, "the longest ban has a date")
        #expect(victim.waitFor { $0.hasPrefix("ERROR BANNED") } != nil)
    }

    @Test func damagedBanRowsAreClampedAndTheDaemonStaysUp() throws {
        let directory = NSTemporaryDirectory() + "chatd-numbers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = directory + "/chat.db"
        let first = try Daemon(["--db", db])
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)
        let sqlite = try Spawned("/usr/bin/sqlite3", [db, """
            INSERT INTO bans(target, is_address, until, set_by) VALUES
              ('victim', 0, 1e300, 'op'), ('forever', 0, 1e999, 'op'), ('ancient', 0, -1e300, 'op'), ('wordy', 0, 'soon', 'op');
            """])
        #expect(sqlite.waitForExit() == 0, "sqlite3: \(sqlite.errorOutput)")
        let daemon = try Daemon(["--db", db])
        #expect(daemon.log.contains("bans: the ban on victim ends at 1e+300, not a date in years 0000-9999; kept until lifted"), "\(daemon.log)")
        #expect(daemon.log.contains("bans: the ban on ancient ends at -1e+300, not a date in years 0000-9999; taken as expired"))
        #expect(daemon.log.contains("bans: the ban on wordy has an end time that is not a number; kept until lifted"))
        let client = try daemon.client()
        for name in ["victim", "forever", "wordy"] {
            client.send("/nick \(name)")
            #expect(client.waitFor { $0.hasPrefix("OK") || $0.hasPrefix("ERROR") } == "ERROR BANNED: the name \(name) is banned", "\(name)")
        }
        client.send("/nick ancient")
        #expect(client.waitFor { $0.hasPrefix("OK") || $0.hasPrefix("ERROR") } == "OK nick ancient", "an end before year 0 has passed")
        client.send("/ping alive")
        #expect(client.waitFor { $0.hasPrefix("OK pong") } == "OK pong alive")
    }
}

/// Polls `condition` until it holds or `timeout` seconds pass.
private func waitUntil(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = now() + timeout
    while now() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
