import CLibEv
import EventIO
import Glibc
import Logging

/// systemd's notification protocol without libsystemd (`sd_notify(3)`): each state change is
/// one datagram of `KEY=value` lines to the AF_UNIX socket named by `$NOTIFY_SOCKET` (a path,
/// or an abstract address written with a leading `@`). chatd sends `READY=1` once its
/// listeners are bound, `STATUS=` with the client count, `WATCHDOG=1` from a loop timer at
/// half of `$WATCHDOG_USEC` (so a wedged loop stops the pings and systemd restarts it), and
/// `STOPPING=1` when shutdown starts. Without `$NOTIFY_SOCKET` it does nothing at all.
public final class SystemdNotifier {
    /// How often `STATUS=` is refreshed when there is no watchdog to ride along with.
    static let statusIntervalSeconds = 5.0

    private let fd: Int32
    private let address: sockaddr_un
    private let addressLength: socklen_t
    private let socketName: String
    private var logger: Logger
    private var timer: TimerWatcher?
    private var lastStatus = ""
    private var failureLogged = false
    /// Seconds between watchdog pings, or nil when systemd asked for none.
    public let watchdogInterval: Double?

    /// nil when `$NOTIFY_SOCKET` is unset or empty (not started by systemd with Type=notify).
    public init?(environment: [String: String], logger: Logger) throws {
        guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(name.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard (path.first == UInt8(ascii: "/") || abstract), path.count < capacity else {
            throw SystemError("NOTIFY_SOCKET", "\(name): not an absolute path or @abstract name shorter than \(capacity) bytes", errno: EINVAL)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        self.address = address
        // A path is NUL-terminated; an abstract name is exactly its bytes.
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
        socketName = name
        self.logger = logger
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError("socket", "AF_UNIX datagram for NOTIFY_SOCKET", errno: errno) }
        watchdogInterval = Self.watchdogInterval(environment)
    }

    deinit {
        timer?.stop()
        Socket.close(fd)
    }

    /// Half of `$WATCHDOG_USEC`, when it is meant for this process (`$WATCHDOG_PID` unset or ours).
    static func watchdogInterval(_ environment: [String: String]) -> Double? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, pid != String(getpid()) { return nil }
        return Double(microseconds) / 2e6
    }

    /// Sends one notification (`READY=1\nSTATUS=…`). A failure is logged once, then ignored:
    /// a missing supervisor must not stop chat.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        let bytes = Array(state.utf8)
        var target = address
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &target) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), $0, addressLength)
                }
            }
        }
        if sent < 0 {
            let error = SystemError("sendto", "NOTIFY_SOCKET \(socketName)", errno: errno)
            if !failureLogged { logger.warning("systemd notification failed: \(error)") }
            failureLogged = true
            return false
        }
        return true
    }

    /// `READY=1` with a first status; then starts the watchdog and status timer on `reactor`,
    /// which calls `status` for the text each time.
    public func ready(reactor: Reactor, status: @escaping () -> String) {
        lastStatus = status()
        notify("READY=1\nSTATUS=\(lastStatus)")
        let interval = min(watchdogInterval ?? Self.statusIntervalSeconds, Self.statusIntervalSeconds)
        let timer = TimerWatcher(reactor: reactor, after: interval, repeat: interval) { [unowned self] in
            var lines: [String] = []
            if watchdogInterval != nil { lines.append("WATCHDOG=1") }
            let current = status()
            if current != lastStatus {
                lines.append("STATUS=\(current)")
                lastStatus = current
            }
            if !lines.isEmpty { notify(lines.joined(separator: "\n")) }
        }
        timer.start()
        self.timer = timer
    }

    /// `STOPPING=1`: shutdown has begun. The watchdog keeps pinging until the loop ends.
    public func stopping(status: String) {
        notify("STOPPING=1\nSTATUS=\(status)")
    }

    /// Stops the timer (the loop is about to be torn down).
    public func stop() {
        timer?.stop()
        timer = nil
    }
}
