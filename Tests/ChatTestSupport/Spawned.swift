import Foundation

/// A child process with a writable stdin and captured stdout and stderr, for driving real
/// tools (`nc`, `telnet`, `chatd client`) and the daemon itself.
public final class Spawned: @unchecked Sendable {
    public let process = Process()
    private let inputPipe = Pipe()
    private let outputPipe = Pipe()
    private let errorPipe = Pipe()
    private let lock = NSLock()
    private var outputBytes = Data()
    private var errorBytes = Data()
    /// Set when a pipe reaches its end (the handler is called with no data).
    private var outputEnded = false
    private var errorEnded = false

    /// `environment` is added to this process's own.
    public init(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardInput = inputPipe
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        outputPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            lock.withLock { if data.isEmpty { outputEnded = true } else { outputBytes.append(data) } }
        }
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            lock.withLock { if data.isEmpty { errorEnded = true } else { errorBytes.append(data) } }
        }
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)  // children inherit Foundation's blocked SIGTERM
            process.waitUntilExit()
        }
        outputPipe.fileHandleForReading.readabilityHandler = nil
        errorPipe.fileHandleForReading.readabilityHandler = nil
    }

    public var output: String { lock.withLock { String(decoding: outputBytes, as: UTF8.self) } }
    public var errorOutput: String { lock.withLock { String(decoding: errorBytes, as: UTF8.self) } }
    public var pid: Int32 { process.processIdentifier }

    public func write(_ text: String) { inputPipe.fileHandleForWriting.write(Data(text.utf8)) }

    public func closeInput() { try? inputPipe.fileHandleForWriting.close() }

    /// Waits until stdout (or stderr, with `inErrors`) contains `text`.
    public func waitFor(_ text: String, inErrors: Bool = false, timeout: Double = 10) -> Bool {
        let deadline = now() + timeout
        while now() < deadline {
            if (inErrors ? errorOutput : output).contains(text) { return true }
            usleep(10_000)
        }
        return false
    }

    /// Waits for exit; the status, or nil at the deadline (the process is then killed).
    public func waitForExit(timeout: Double = 20) -> Int32? {
        let deadline = now() + timeout
        while process.isRunning && now() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)  // children inherit Foundation's blocked SIGTERM
            process.waitUntilExit()
            return nil
        }
        // Let the readability handlers take the last bytes: until both pipes have ended (a
        // fixed 50 ms lost the end of a long --help when the machine was busy), at most 2 s
        // (a child of the process may still hold a pipe open).
        let drained = now() + 2
        usleep(20_000)
        while now() < drained && !lock.withLock({ outputEnded && errorEnded }) { usleep(10_000) }
        return process.terminationStatus
    }
}
