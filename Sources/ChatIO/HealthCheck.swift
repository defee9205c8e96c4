import EventIO
import Glibc

/// `chatd check HOST:PORT`: connect, send `/ping`, wait for the pong, all within one deadline.
/// For load balancers, `ExecStartPost=` and shell scripts: the answer is one line and an exit
/// status. Blocking calls with `poll` timeouts: it is a one-shot tool, not the daemon.
public enum HealthCheck {
    /// The token the check's `/ping` carries, so its pong cannot be mistaken for another line.
    static let token = "chatd-check"
    /// The most bytes read while waiting for the pong (welcome, MOTD and history replay come
    /// first); a server sending more than this without answering is not healthy.
    static let maxBytesRead = 1 << 20
    /// Bytes read per read(2).
    static let readChunkBytes = 65536

    public enum Outcome: Equatable {
        /// The pong arrived after this many seconds.
        case healthy(seconds: Double)
        case unhealthy(String)
    }

    public static func run(host: String, port: UInt16, timeout: Double) -> Outcome {
        let started = monotonicSeconds()
        let deadline = started + timeout
        let address: SocketAddress
        do {
            address = try SocketAddress(host: host, port: port)
        } catch {
            return .unhealthy("\(error)")
        }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        if fd < 0 { return .unhealthy("\(SystemError("socket", errno: errno))") }
        defer { Socket.close(fd) }
        let connected = address.withUnsafeSockaddr { connect(fd, $0, $1) }
        if connected != 0 {
            let code = errno
            guard code == EINPROGRESS else { return .unhealthy("\(SystemError("connect", "\(address)", errno: code))") }
            guard wait(fd, for: Int16(POLLOUT), until: deadline) else { return .unhealthy("no connection to \(address) within \(timeout)s") }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
            if failure != 0 { return .unhealthy("\(SystemError("connect", "\(address)", errno: failure))") }
        }
        let ping = Array("/ping \(token)\n".utf8)
        var sent = 0
        while sent < ping.count {
            let result: IOResult
            do {
                result = try ping[sent...].withUnsafeBytes { try Socket.write(fd, $0) }
            } catch {
                return .unhealthy("\(error)")
            }
            if case .done(let count) = result {
                sent += count
            } else if !wait(fd, for: Int16(POLLOUT), until: deadline) {
                return .unhealthy("could not send /ping within \(timeout)s")
            }
        }
        var pending: [UInt8] = []
        var total = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readChunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        while total < maxBytesRead {
            guard wait(fd, for: Int16(POLLIN), until: deadline) else { return .unhealthy("no answer to /ping within \(timeout)s") }
            let result: IOResult
            do {
                result = try Socket.read(fd, into: buffer)
            } catch {
                return .unhealthy("\(error)")
            }
            switch result {
            case .wouldBlock: continue
            case .endOfFile: return .unhealthy("the server closed the connection before answering /ping")
            case .done(let count):
                total += count
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                while let newline = pending.firstIndex(of: 0x0A) {
                    var line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    if line.hasSuffix("\r") { line.removeLast() }
                    if line == "OK pong \(token)" { return .healthy(seconds: monotonicSeconds() - started) }
                    if line.hasPrefix("ERROR ") { return .unhealthy("the server answered: \(printable(line))") }
                }
            }
        }
        return .unhealthy("no answer to /ping in the first \(maxBytesRead) bytes")
    }

    /// Waits until `fd` is ready for `events`; false at the deadline.
    private static func wait(_ fd: Int32, for events: Int16, until deadline: Double) -> Bool {
        while true {
            let remaining = deadline - monotonicSeconds()
            if remaining <= 0 { return false }
            var poller = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return false }
        }
    }

    /// A server's line as one safe line of ours: controls removed, at most 200 bytes.
    private static func printable(_ line: String) -> String {
        String(String.UnicodeScalarView(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) }).prefix(200))
    }
}
