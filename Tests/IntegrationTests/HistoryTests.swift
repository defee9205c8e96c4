import ChatTestSupport
import Foundation
import Testing

/// History end to end: the real binary, a real database file, restarts, SIGTERM and kill -9.
@Suite final class HistoryTests {
    let directory: String

    /// Each test gets its own directory (the suite is made once per test); it goes with it.
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    init() throws {
        directory = NSTemporaryDirectory() + "chatd-history-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The numbers of "n<k>" chat lines in `lines`, in the order seen.
    func numbers(_ lines: [String], prefix: String) -> [Int] {
        lines.compactMap { line in
            guard line.hasPrefix(prefix), let range = line.range(of: #"> n\d+$"#, options: .regularExpression) else { return nil }
            return Int(line[range].dropFirst(3))
        }
    }

    @Test func aRestartReplaysTheConversationToANewNcUser() throws {
        let db = directory + "/chat.db"
        let first = try Daemon(["--db", db])
        let alice = try first.client(named: "alice")
        for line in ["good morning", "is the build green?"] { alice.send(line) }
        alice.send("/me pours coffee")
        alice.send("/topic #lobby release day")
        #expect(alice.waitFor { $0.hasPrefix("OK topic") } != nil)
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)

        let second = try Daemon(["--db", db])
        #expect(second.log.contains("4 lines of #lobby loaded"))
        let nc = try Spawned("/usr/bin/nc", ["-N", "127.0.0.1", "\(second.port)"])
        #expect(nc.waitFor("set the topic: release day"))
        let history = nc.output.split(separator: "\n").filter { $0.hasPrefix("HISTORY ") }
        let stamp = #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#
        #expect(history.count == 4)
        let expected = ["<alice> good morning", "<alice> is the build green?", "* alice pours coffee", "*** alice set the topic: release day"]
        for (line, tail) in zip(history, expected) {
            #expect(line.range(of: "^HISTORY #lobby \(stamp) ", options: .regularExpression) != nil, "\(line)")
            #expect(line.hasSuffix(tail), "\(line)")
        }
        nc.write("/history 2\n")
        #expect(nc.waitFor("OK history #lobby 2 lines"))
        nc.closeInput()
    }

    @Test func killNineLosesNothingOlderThanTheCommitWindow() throws {
        let db = directory + "/kill.db"
        let arguments = ["--db", db, "--commit-window", "0.05", "--max-line-rate", "0"]
        let first = try Daemon(arguments)
        let alice = try first.client(named: "alice")
        let bob = try first.client(named: "bob")
        alice.sendRaw(Array((1...300).map { "n\($0)\n" }.joined().utf8))
        // Once bob has the last line the server has received and remembered every line.
        #expect(bob.waitFor { $0 == "#lobby <alice> n300" } != nil)
        usleep(500_000)  // ten commit windows
        first.signal(SIGKILL)
        _ = first.waitForExit()

        let second = try Daemon(arguments + ["--history-replay", "0"])
        let carol = try second.client()
        carol.send("/history 200")
        var lines: [String] = []
        while let line = carol.readLine(), !line.hasPrefix("OK history") { lines.append(line) }
        #expect(numbers(lines, prefix: "HISTORY") == Array(101...300))
    }

    @Test func aJoinDuringABurstSeesEveryLineOnceAndInOrder() throws {
        let daemon = try Daemon(["--db", directory + "/burst.db", "--history-replay", "200", "--max-line-rate", "0"])
        let alice = try daemon.client(named: "alice")
        let bob = try daemon.client(named: "bob")
        alice.send("/join #burst")
        #expect(alice.waitFor { $0.hasPrefix("OK join") } != nil)
        // Bob's join goes out between two halves of the burst; the server reads both sockets
        // in whatever order they become ready, so the join lands somewhere inside the burst.
        for batch in 0..<20 {
            if batch == 10 { bob.send("/join #burst") }
            alice.sendRaw(Array((1...20).map { "n\(batch * 20 + $0)\n" }.joined().utf8))
        }
        var seen: [String] = []
        while let line = bob.readLine(), line != "#burst <alice> n400" { seen.append(line) }
        seen.append("#burst <alice> n400")
        let replayed = numbers(seen, prefix: "HISTORY #burst")
        let live = numbers(seen, prefix: "#burst <alice>")
        let all = replayed + live
        #expect(all == Array((all.first ?? 1)...400), "history \(replayed.count) lines then \(live.count) live lines, no gap, no repeat")
        // The replay is every line before the join, up to the 200 the room keeps in memory.
        #expect(replayed.count == min(200, (live.first ?? 401) - 1), "\(replayed.count) replayed, live from \(live.first ?? 0)")
        let joined = try #require(seen.firstIndex { $0.hasPrefix("OK join #burst") })
        #expect(!seen[..<joined].contains { $0.hasPrefix("HISTORY") || $0.hasPrefix("#burst") }, "the replay follows the join confirmation")
    }

    @Test func noHistoryWritesNoFileAndSaysSo() throws {
        let db = directory + "/never.db"
        let daemon = try Daemon([], environment: ["CHATD_NO_HISTORY": "1", "CHATD_DB": db])
        let alice = try daemon.client(named: "alice")
        alice.send("nothing to keep")
        alice.send("/history")
        #expect(alice.waitFor { $0.hasPrefix("ERROR") } == "ERROR HISTORY_OFF: this server keeps no history")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func environmentOptionsApplyAndTheCommandLineWins() throws {
        let daemon = try Daemon(["--max-line-bytes", "64"], environment: ["CHATD_MAX_LINE_BYTES": "32", "CHATD_HISTORY_REPLAY": "0"])
        let client = try TestClient(port: daemon.port)
        #expect(client.waitFor { $0.hasPrefix("*** welcome") }?.contains("limited to 64 bytes") == true)
        let fromEnvironment = try Daemon([], environment: ["CHATD_MAX_LINE_BYTES": "32"])
        let other = try TestClient(port: fromEnvironment.port)
        #expect(other.waitFor { $0.hasPrefix("*** welcome") }?.contains("limited to 32 bytes") == true)
    }

    @Test func aDatabaseThatIsNotOneIsAClearStartupError() throws {
        let db = directory + "/junk.db"
        try Data(String(repeating: "not a database\n", count: 400).utf8).write(to: URL(fileURLWithPath: db))
        let chatd = try Spawned(Daemon.binary, ["--port", "0", "--db", db])
        #expect(chatd.waitForExit() == 1)
        #expect(chatd.errorOutput.contains("history database: open \(db): file is not a database"), "\(chatd.errorOutput)")
        #expect(chatd.errorOutput.contains("--no-history"))
    }
}
