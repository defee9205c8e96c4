import Foundation

/// A private `redis-server` for cluster tests: a free loopback port, no persistence, its own
/// temporary directory (removed when it stops), stopped by PID.
public final class RedisServer: @unchecked Sendable {
    public static let binary = "/usr/bin/redis-server"
    public let port: UInt16
    public let directory: URL
    public private(set) var spawned: Spawned

    public var url: String { "redis://127.0.0.1:\(port)" }

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatd-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lastError = ""
        for _ in 0..<5 {
            let port: UInt16, spawned: Spawned
            do {
                port = try Self.freePort()
                spawned = try Self.launch(port: port, directory: directory)
            } catch {
                try? FileManager.default.removeItem(at: directory)  // no server yet to stop
                throw error
            }
            if spawned.waitFor("Ready to accept connections", timeout: 10) {
                self.port = port
                self.spawned = spawned
                return
            }
            lastError = spawned.output
            kill(spawned.pid, SIGKILL)
            _ = spawned.waitForExit(timeout: 5)
        }
        try? FileManager.default.removeItem(at: directory)
        throw TestError("redis-server did not start: \(lastError)")
    }

    private static func launch(port: UInt16, directory: URL) throws -> Spawned {
        try Spawned(binary, ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", directory.path, "--loglevel", "notice"])
    }

    /// A port the kernel just handed out (bound to 0, read back, closed): free a moment later
    /// unless someone else takes it, which `init` survives by retrying.
    public static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw TestError("bind: errno \(errno)") }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { throw TestError("getsockname: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    public var pid: Int32 { spawned.pid }

    /// SIGSTOP: Redis keeps its sockets but answers nothing.
    public func pause() { kill(spawned.pid, SIGSTOP) }
    /// SIGCONT.
    public func resume() { kill(spawned.pid, SIGCONT) }

    /// Kills it (its data is gone: no persistence) and starts a new one on the same port.
    public func restart() throws {
        kill(spawned.pid, SIGKILL)
        _ = spawned.waitForExit(timeout: 10)
        let deadline = now() + 10
        while now() < deadline {
            let next = try Self.launch(port: port, directory: directory)
            if next.waitFor("Ready to accept connections", timeout: 5) {
                spawned = next
                return
            }
            kill(next.pid, SIGKILL)
            _ = next.waitForExit(timeout: 5)
            usleep(100_000)
        }
        throw TestError("redis-server did not restart on port \(port)")
    }

    /// Runs `redis-cli` against it; its output.
    public func cli(_ arguments: [String]) throws -> String {
        let tool = try Spawned("/usr/bin/redis-cli", ["-p", "\(port)"] + arguments)
        _ = tool.waitForExit(timeout: 10)
        return tool.output
    }

    deinit {
        kill(spawned.pid, SIGCONT)
        kill(spawned.pid, SIGKILL)
        _ = spawned.waitForExit(timeout: 10)
        try? FileManager.default.removeItem(at: directory)
    }
}
