import ChatTestSupport
import Foundation
import Testing

/// A real IRC client: Debian's irssi, driven in a private tmux server (send-keys, capture-pane)
/// with its own temporary --home, joins #dev and talks with an nc-style client and a
/// seed-protocol client in the same room, messages and /me actions both ways.
@Suite struct IRCClientTests {
    /// A tmux server of our own (its own socket name), running irssi; stopped in `stop`.
    final class IrssiSession {
        let socket = "chatd-irc-\(UUID().uuidString.prefix(8))"
        let home: URL

        init(port: UInt16, nick: String) throws {
            home = FileManager.default.temporaryDirectory.appendingPathComponent("chatd-irssi-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            do {
                // A config of our own, so irssi never reads or writes ~/.irssi.
                try """
                settings = {
                  core = { real_name = "irssi test"; user_name = "\(nick)"; nick = "\(nick)"; };
                  "fe-common/core" = { theme = "default"; };
                };
                """.write(to: home.appendingPathComponent("config"), atomically: true, encoding: .utf8)
                // The tmux server this starts keeps its output open, so nothing is read from it.
                try tmux(["new-session", "-d", "-s", "irc", "-x", "200", "-y", "50",
                          "irssi --home=\(home.path) -c 127.0.0.1 -p \(port) -n \(nick)"], readsOutput: false)
            } catch {
                try? FileManager.default.removeItem(at: home)  // `stop` never runs for a session that did not start
                throw error
            }
        }

        func type(_ text: String) throws { try tmux(["send-keys", "-t", "irc", "-l", text]); try tmux(["send-keys", "-t", "irc", "Enter"]) }

        func screen() -> String { (try? tmux(["capture-pane", "-p", "-t", "irc", "-S", "-200"])) ?? "" }

        /// Waits until the screen shows `text`.
        func waitFor(_ text: String, timeout: Double = 15) -> Bool {
            let deadline = now() + timeout
            while now() < deadline {
                if screen().contains(text) { return true }
                usleep(100_000)
            }
            return false
        }

        func stop() {
            _ = try? tmux(["kill-server"])
            try? FileManager.default.removeItem(at: home)
        }

        /// Runs one tmux command against our server, through `/bin/sh` with its output in a
        /// file, waiting with `waitpid` itself: the tmux client forks the tmux server and exits,
        /// and Foundation's `Process` did not notice that exit (the test hung on it).
        @discardableResult
        private func tmux(_ arguments: [String], readsOutput: Bool = true) throws -> String {
            let output = home.appendingPathComponent("tmux-output").path
            let quoted = (["/usr/bin/tmux", "-L", socket] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            let command = quoted.joined(separator: " ") + " > '\(output)' 2>/dev/null < /dev/null"
            var pid: pid_t = 0
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
            defer { for pointer in argv { free(pointer) } }
            guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { throw TestError("posix_spawn failed") }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            guard status == 0 else { throw TestError("tmux \(arguments.first ?? "") failed (\(status))") }
            return readsOutput ? (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" : ""
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/irssi") && FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func irssiTalksWithNcAndSeedClients() throws {
        let daemon = try Daemon(["--max-line-rate", "0"])
        let irssi = try IrssiSession(port: daemon.port, nick: "irssiuser")
        defer { irssi.stop() }
        #expect(irssi.waitFor("Welcome to the chatd IRC network"), "irssi registered: \(irssi.screen())")
        try irssi.type("/join #dev")
        #expect(irssi.waitFor("Total of 1 nicks"), "irssi joined #dev: \(irssi.screen())")

        let nc = try daemon.client(named: "ncuser")
        nc.send("/join #dev")
        #expect(nc.waitFor { $0.hasPrefix("OK join") } != nil)
        let seed = try TestClient(port: daemon.port)
        seed.send("JOIN:seeduser")
        seed.send("/join #dev")
        #expect(irssi.waitFor("seeduser"), "irssi saw the seed client join")

        try irssi.type("hello from irssi")
        #expect(nc.waitFor { $0.contains("hello from irssi") } == "#dev <irssiuser> hello from irssi")
        #expect(seed.waitFor { $0.contains("hello from irssi") } == "SAY:irssiuser:hello from irssi")
        try irssi.type("/me waves at everyone")
        #expect(nc.waitFor { $0.contains("waves at everyone") } == "#dev * irssiuser waves at everyone")
        #expect(seed.waitFor { $0.contains("waves at everyone") } == "SAY:irssiuser:* irssiuser waves at everyone")

        nc.send("hi irssi, from nc")
        #expect(irssi.waitFor("< ncuser> hi irssi, from nc"), "irssi shows the nc line: \(irssi.screen())")
        nc.send("/me bows")
        #expect(irssi.waitFor("* ncuser bows"), "irssi shows the nc action as an action: \(irssi.screen())")
        seed.send("SAY:seeduser:hello from the seed protocol")
        #expect(irssi.waitFor("< seeduser> hello from the seed protocol"), "irssi shows the seed line: \(irssi.screen())")
    }
}
