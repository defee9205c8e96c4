import Glibc

/// A blocking loopback client for tests: sends lines, reads lines with a bounded wait.
/// Every wait has a deadline so a broken server fails a test instead of hanging it; no test
/// asserts how fast anything happened.
public final class TestClient {
    public let fd: Int32
    private var buffer: [UInt8] = []
    public private(set) var isClosed = false
    /// The server this client was made by (`Daemon.client`): kept alive as long as the client,
    /// so a test need not hold on to a server it only talks to through its clients.
    var server: AnyObject?

    /// Connects to `host` (IPv4 or IPv6 literal), from the source address `source` if given.
    public init(port: UInt16, host: String = "127.0.0.1", from source: String? = nil) throws {
        fd = try TestSocket.connect(host: host, port: port, from: source)
    }

    deinit { close() }

    public func send(_ line: String) { sendRaw(Array((line + "\n").utf8)) }

    public func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    /// The next line (without its newline), or nil if none arrives before the deadline or the
    /// server closed the connection.
    public func readLine(timeout: Double = 10) -> String? {
        readLineBytes(timeout: timeout).map { String(decoding: $0, as: UTF8.self) }
    }

    public func readLineBytes(timeout: Double = 10) -> [UInt8]? {
        let deadline = now() + timeout
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            let remaining = deadline - now()
            if remaining <= 0 || !fill(timeout: remaining) { return nil }
        }
    }

    /// Reads lines until one satisfies `predicate`; returns it, or nil at the deadline.
    public func waitFor(timeout: Double = 10, _ predicate: (String) -> Bool) -> String? {
        let deadline = now() + timeout
        while case let remaining = deadline - now(), remaining > 0 {
            guard let line = readLine(timeout: remaining) else { return nil }
            if predicate(line) { return line }
        }
        return nil
    }

    /// Lines that arrive within `seconds` (for asserting that nothing more came).
    public func drain(seconds: Double) -> [String] {
        var lines: [String] = []
        let deadline = now() + seconds
        while case let remaining = deadline - now(), remaining > 0, let line = readLine(timeout: remaining) {
            lines.append(line)
        }
        return lines
    }

    /// Raw bytes that arrive within `seconds`.
    public func drainBytes(seconds: Double) -> [UInt8] {
        let deadline = now() + seconds
        while case let remaining = deadline - now(), remaining > 0, fill(timeout: remaining) {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// True once the server has closed the connection (EOF within the deadline).
    public func waitForClose(timeout: Double = 10) -> Bool {
        let deadline = now() + timeout
        while case let remaining = deadline - now(), remaining > 0 {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, Int32(remaining * 1000)) <= 0 { return false }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { return true }
            buffer.append(contentsOf: chunk[0..<count])
        }
        return false
    }

    private func fill(timeout: Double) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&poller, 1, Int32(max(1, timeout * 1000))) <= 0 { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &chunk, chunk.count, 0)
        if count <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    /// Closes with RST instead of FIN (SO_LINGER 0): an abrupt death as the server sees it.
    public func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    public func close() {
        if isClosed { return }
        isClosed = true
        Glibc.close(fd)
    }
}

public struct TestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
