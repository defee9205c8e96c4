import Glibc

/// Raw sockets for tests: a client connection from a chosen source address (127.0.0.2, ... are
/// all loopback, so one test can play several client addresses) over IPv4 or IPv6, and a
/// listening socket for tests that play the server.
public enum TestSocket {
    /// A connected blocking TCP socket to `host:port` (an IPv4 or IPv6 literal), bound to
    /// `source` first when given.
    public static func connect(host: String, port: UInt16, from source: String? = nil) throws -> Int32 {
        let family = host.contains(":") ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        if fd < 0 { throw TestError("socket: errno \(errno)") }
        if let source {
            let bound = try withAddress(source, port: 0) { bind(fd, $0, $1) }
            if bound != 0 {
                let code = errno
                Glibc.close(fd)
                throw TestError("bind to \(source): errno \(code)")
            }
        }
        let result = try withAddress(host, port: port) { Glibc.connect(fd, $0, $1) }
        if result != 0 {
            let code = errno
            Glibc.close(fd)
            throw TestError("connect to \(host):\(port): errno \(code)")
        }
        return fd
    }

    /// A socket listening on `host` at a free port; returns it and the port.
    public static func listen(host: String = "127.0.0.1") throws -> (fd: Int32, port: UInt16) {
        let fd = socket(host.contains(":") ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if fd < 0 { throw TestError("socket: errno \(errno)") }
        guard try withAddress(host, port: 0, { bind(fd, $0, $1) }) == 0, Glibc.listen(fd, 8) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestError("bind/listen on \(host): errno \(code)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        return (fd, port)
    }

    /// Accepts one connection on `listener`, or throws at the deadline.
    public static func accept(_ listener: Int32, timeout: Double = 10) throws -> Int32 {
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { throw TestError("no connection to accept") }
        let fd = Glibc.accept(listener, nil, nil)
        if fd < 0 { throw TestError("accept: errno \(errno)") }
        return fd
    }

    private static func withAddress<Result>(_ host: String, port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) throws -> Result {
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw TestError("not an IPv6 address: \(host)") }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw TestError("not an IPv4 address: \(host)") }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
