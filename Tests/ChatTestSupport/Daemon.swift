import Foundation

/// The built `chatd` binary running on a free port, for end-to-end tests. Reads the port the
/// daemon chose from its "listening on" log line; keeps its whole log for assertions.
public final class Daemon: @unchecked Sendable {
    public let process = Process()
    public private(set) var port: UInt16 = 0
    private let errorPipe = Pipe()
    private let lock = NSLock()
    private var logBytes = Data()

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

    public init(_ arguments: [String] = [], waitForPort: Bool = true) throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--port", "0"] + arguments
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            lock.lock()
            logBytes.append(data)
            lock.unlock()
        }
        try process.run()
        guard waitForPort else { return }
        let deadline = now() + 30
        while now() < deadline {
            if let found = log.range(of: #"listening on \S+:(\d+)"#, options: .regularExpression) {
                let text = log[found]
                if let colon = text.lastIndex(of: ":"), let value = UInt16(text[text.index(after: colon)...]) {
                    port = value
                    return
                }
            }
            if !process.isRunning { throw TestError("chatd exited at start: \(log)") }
            usleep(10_000)
        }
        throw TestError("chatd did not report its port: \(log)")
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        errorPipe.fileHandleForReading.readabilityHandler = nil
    }

    public var log: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: logBytes, as: UTF8.self)
    }

    public var pid: Int32 { process.processIdentifier }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit; returns its status, or nil at the deadline.
    public func waitForExit(timeout: Double = 20) -> Int32? {
        let deadline = now() + timeout
        while process.isRunning && now() < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Waits until the log contains `text`.
    public func waitForLog(_ text: String, timeout: Double = 10) -> Bool {
        let deadline = now() + timeout
        while now() < deadline {
            if log.contains(text) { return true }
            usleep(10_000)
        }
        return false
    }

    /// Resident memory of the daemon in bytes, from /proc.
    public var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// Connects a client and reads past its welcome line, optionally choosing a name.
    public func client(named name: String? = nil) throws -> TestClient {
        let client = try TestClient(port: port)
        guard client.waitFor({ $0.hasPrefix("*** welcome") }) != nil else { throw TestError("no welcome line") }
        if let name {
            client.send("/nick \(name)")
            guard client.waitFor({ $0 == "OK nick \(name)" }) != nil else { throw TestError("could not take the name \(name)") }
        }
        return client
    }
}

/// Runs a command-line tool with stdin bytes, returning its output, error output and status.
public func runTool(_ path: String, _ arguments: [String], input: [UInt8] = [], timeout: Double = 20) throws -> (output: String, error: String, status: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let inputPipe = Pipe(), outputPipe = Pipe(), errorPipe = Pipe()
    process.standardInput = inputPipe
    process.standardOutput = outputPipe
    process.standardError = errorPipe
    try process.run()
    inputPipe.fileHandleForWriting.write(Data(input))
    try inputPipe.fileHandleForWriting.close()
    let deadline = now() + timeout
    while process.isRunning && now() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
    }
    let output = String(decoding: outputPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let error = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (output, error, process.terminationStatus)
}
