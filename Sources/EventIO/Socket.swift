import CLibEv
import Glibc

/// Thin, checked wrappers over the socket calls chatd makes. No raw -1 escapes: each failure is
/// a `SystemError` naming the call, with errno read immediately (typed: a caller's `catch`
/// knows it holds a `SystemError`, and has no other case to invent); `EINTR` is retried here
/// and `EAGAIN` comes back as `.wouldBlock`.
public enum Socket {
    /// Opens a non-blocking listening socket bound to `address`.
    public static func listen(on address: SocketAddress, backlog: Int32) throws(SystemError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError("socket", "\(address)", errno: errno) }
        do throws(SystemError) {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            if address.family == AF_INET6 { try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY") }
            let bound = address.withUnsafeSockaddr { bind(fd, $0, $1) }
            if bound != 0 { throw SystemError("bind", "\(address)", errno: errno) }
            if Glibc.listen(fd, backlog) != 0 { throw SystemError("listen", "\(address)", errno: errno) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// Accepts one connection as non-blocking and close-on-exec; nil when none is waiting.
    public static func accept(_ listener: Int32) throws(SystemError) -> (fd: Int32, address: SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let fd = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(listener, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if fd >= 0 { return (fd, SocketAddress(storage: storage, length: length)) }
            let code = errno
            switch code {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw SystemError("accept4", errno: code)
            }
        }
    }

    /// Connects a blocking socket to `address`, then makes it non-blocking.
    public static func connect(to address: SocketAddress) throws(SystemError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError("socket", "\(address)", errno: errno) }
        while true {
            let result = address.withUnsafeSockaddr { Glibc.connect(fd, $0, $1) }
            if result == 0 { break }
            let code = errno
            if code == EINTR { continue }
            Glibc.close(fd)
            throw SystemError("connect", "\(address)", errno: code)
        }
        do throws(SystemError) {
            try setNonBlocking(fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    public static func setNonBlocking(_ fd: Int32) throws(SystemError) {
        let flags = fcntl(fd, F_GETFL)
        if flags < 0 { throw SystemError("fcntl", "F_GETFL fd \(fd)", errno: errno) }
        if fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 { throw SystemError("fcntl", "F_SETFL fd \(fd)", errno: errno) }
    }

    public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws(SystemError) {
        var value = value
        if setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw SystemError("setsockopt", label, errno: errno)
        }
    }

    /// The address a socket is bound to (to learn the port after binding port 0).
    public static func localAddress(_ fd: Int32) throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if result != 0 { throw SystemError("getsockname", "fd \(fd)", errno: errno) }
        return SocketAddress(storage: storage, length: length)
    }

    /// One non-blocking read into `buffer`.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .done(count) }
            if count == 0 { return .endOfFile }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw SystemError("read", "fd \(fd)", errno: code)
            }
        }
    }

    /// One non-blocking gathered write: `sendmsg` with MSG_NOSIGNAL (not `writev`, which it
    /// replaces), so a peer that reset can never raise SIGPIPE, whatever the process's signal
    /// disposition. One vector goes out with `send`, which skips copying in the message header
    /// and the vector array (a connecting client's welcome and replay, a notice to a listener).
    public static func sendMessage(_ fd: Int32, _ vectors: UnsafeMutablePointer<iovec>, count: Int32) throws(SystemError) -> IOResult {
        if count == 1 { return try write(fd, UnsafeRawBufferPointer(start: vectors[0].iov_base, count: vectors[0].iov_len)) }
        var message = msghdr()
        message.msg_iov = vectors
        message.msg_iovlen = Int(count)
        while true {
            let written = sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
            if written >= 0 { return .done(written) }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw SystemError("sendmsg", "fd \(fd)", errno: code)
            }
        }
    }

    /// One non-blocking write of a contiguous buffer to a socket (MSG_NOSIGNAL, as above).
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> IOResult {
        while true {
            let written = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if written >= 0 { return .done(written) }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw SystemError("send", "fd \(fd)", errno: code)
            }
        }
    }

    /// Closes `fd`. A failed close still releases the descriptor on Linux, so the only thing to
    /// do with its error is report it; EBADF would be our bug.
    @discardableResult
    public static func close(_ fd: Int32) -> SystemError? {
        if Glibc.close(fd) == 0 { return nil }
        let code = errno
        precondition(code != EBADF, "close(\(fd)): descriptor was not open")
        return code == EINTR ? nil : SystemError("close", "fd \(fd)", errno: code)
    }
}
