import Foundation

/// The built `chatd` binary running on a free port, for end-to-end tests. Reads the port the
/// daemon chose from its "listening on" log line; keeps its whole log for assertions.
public final class Daemon: @unchecked Sendable {
    public let spawned: Spawned
    public private(set) var port: UInt16 = 0

    /// Where the binary is: $CHATD_BIN, else next to the test runner, else .build/debug.
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["CHATD_BIN"] { return path }
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("chatd").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug/chatd"
    }

    /// Without `--db` in `arguments` history is off, so parallel tests never share a database.
    public init(_ arguments: [String] = [], environment: [String: String] = [:]) throws {
        let history = arguments.contains("--db") || arguments.contains("--no-history") || environment["CHATD_DB"] != nil ? [] : ["--no-history"]
        spawned = try Spawned(Self.binary, ["--port", "0", "--log-level", "info"] + history + arguments, environment: environment)
        let deadline = now() + 30
        while now() < deadline {
            if let found = log.range(of: #"listening on \S+:(\d+)"#, options: .regularExpression) {
                let text = log[found]
                if let colon = text.lastIndex(of: ":"), let value = UInt16(text[text.index(after: colon)...]) {
                    port = value
                    return
                }
            }
            if !spawned.process.isRunning { throw TestError("chatd exited at start: \(log)") }
            usleep(10_000)
        }
        throw TestError("chatd did not report its port: \(log)")
    }

    /// The Argon2id string `chatd hash-password` prints for `password` given on stdin: a line
    /// of an operators file is `NAME` plus this.
    public static func hashPassword(_ password: String) throws -> String {
        let tool = try Spawned(binary, ["hash-password"])
        tool.write(password + "\n")
        tool.closeInput()
        let status = tool.waitForExit()
        guard status == 0 else { throw TestError("hash-password exited \(String(describing: status)): \(tool.errorOutput)") }
        return tool.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public var log: String { spawned.errorOutput }
    public var pid: Int32 { spawned.pid }

    public func signal(_ number: Int32) { kill(spawned.pid, number) }

    /// Waits for the process to exit; returns its status, or nil at the deadline.
    public func waitForExit(timeout: Double = 20) -> Int32? { spawned.waitForExit(timeout: timeout) }

    /// Waits until the log contains `text`.
    public func waitForLog(_ text: String, timeout: Double = 10) -> Bool {
        spawned.waitFor(text, inErrors: true, timeout: timeout)
    }

    /// Waits until the log contains `text` at least `times` times.
    public func waitForLog(_ text: String, times: Int, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while log.components(separatedBy: text).count - 1 < times {
            if Date() > deadline { return false }
            usleep(20_000)
        }
        return true
    }

    /// Resident memory of the daemon in bytes, from /proc.
    public var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// Connects a client (from the loopback address `source`, if given) and reads past its
    /// welcome line, optionally choosing a name.
    public func client(named name: String? = nil, from source: String? = nil) throws -> TestClient {
        let client = try TestClient(port: port, from: source)
        client.server = self
        guard client.waitFor({ $0.hasPrefix("*** welcome") }) != nil else { throw TestError("no welcome line") }
        if let name {
            client.send("/nick \(name)")
            guard client.waitFor({ $0 == "OK nick \(name)" }) != nil else { throw TestError("could not take the name \(name)") }
        }
        return client
    }
}
