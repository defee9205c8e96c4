import CLibEv
import EventIO
import Glibc

/// systemd socket activation (`sd_listen_fds(3)`) without libsystemd: the listening sockets
/// systemd (or `systemd-socket-activate`) opened are descriptors 3, 4, … when `$LISTEN_PID` is
/// this process and `$LISTEN_FDS` counts them; `$LISTEN_FDNAMES` names them
/// (`FileDescriptorName=` in the .socket unit). chatd takes the one named `metrics` for the
/// metrics endpoint and the other one for chat. The variables are removed once read, so
/// nothing chatd might start inherits them.
public enum SocketActivation {
    /// The first descriptor passed (`SD_LISTEN_FDS_START`).
    static let firstDescriptor: Int32 = 3
    /// The most descriptors chatd takes: chat and metrics.
    static let maxDescriptors = 2

    public struct Sockets: Equatable {
        public var chat: Int32?
        public var metrics: Int32?
    }

    /// The inherited sockets, or nil when this process was not socket-activated. Throws when
    /// it was, but with something chatd cannot serve on (a datagram socket, too many sockets).
    public static func take(environment: [String: String]) throws -> Sockets? {
        guard let pidText = environment["LISTEN_PID"], let countText = environment["LISTEN_FDS"] else { return nil }
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        guard pidText == String(getpid()) else { return nil }  // meant for a parent that exec'd us? not ours
        guard let count = Int(countText), count >= 1, count <= maxDescriptors else {
            throw SystemError("LISTEN_FDS", "\(countText): chatd takes one socket for chat and optionally one named metrics", errno: EINVAL)
        }
        let names = environment["LISTEN_FDNAMES"].map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) } ?? []
        var sockets = Sockets()
        for offset in 0..<count {
            let fd = firstDescriptor + Int32(offset)
            try checkListeningStream(fd)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            try Socket.setNonBlocking(fd)
            let name = offset < names.count ? names[offset] : ""
            if name == "metrics" {
                sockets.metrics = fd
            } else if sockets.chat == nil {
                sockets.chat = fd
            } else {
                throw SystemError("LISTEN_FDNAMES", "two sockets for chat; name the metrics one FileDescriptorName=metrics", errno: EINVAL)
            }
        }
        guard sockets.chat != nil else {
            throw SystemError("LISTEN_FDNAMES", "no socket for chat, only one named metrics", errno: EINVAL)
        }
        return sockets
    }

    /// A listening TCP (stream) socket, or an error naming what it is instead.
    static func checkListeningStream(_ fd: Int32) throws {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &length) != 0 {
            throw SystemError("getsockopt", "SO_TYPE of inherited fd \(fd)", errno: errno)
        }
        guard value == Int32(SOCK_STREAM.rawValue) else {
            throw SystemError("socket activation", "fd \(fd) is not a stream socket (use ListenStream=)", errno: EINVAL)
        }
        length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) != 0 {
            throw SystemError("getsockopt", "SO_ACCEPTCONN of inherited fd \(fd)", errno: errno)
        }
        guard value != 0 else {
            throw SystemError("socket activation", "fd \(fd) is not listening (Accept=yes is not supported)", errno: EINVAL)
        }
    }
}
