import ChatIO
import Glibc

/// One benchmark connection: a socket, its watchers, unsent bytes and an unfinished line.
final class LoadClient {
    let index: Int
    let fd: Int32
    var readWatcher: IOWatcher?
    var writeWatcher: IOWatcher?
    var outgoing: [UInt8] = []
    var outgoingStart = 0
    /// Bytes after the last newline of the previous read.
    var partial: [UInt8] = []
    var isOpen = true

    init(index: Int, fd: Int32) {
        self.index = index
        self.fd = fd
    }

    /// Connects to `server`, optionally from a chosen loopback source address (to get past
    /// the ~28k ephemeral ports of one source address).
    static func connect(to server: SocketAddress, from source: String?) throws -> Int32 {
        guard let source else { return try Socket.connect(to: server) }
        let local = try SocketAddress(host: source, port: 0)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError("socket", errno: errno) }
        let bound = local.withUnsafeSockaddr { bind(fd, $0, $1) }
        if bound != 0 {
            let code = errno
            Glibc.close(fd)
            throw SystemError("bind", source, errno: code)
        }
        let connected = server.withUnsafeSockaddr { Glibc.connect(fd, $0, $1) }
        if connected != 0 {
            let code = errno
            Glibc.close(fd)
            throw SystemError("connect", "\(server) from \(source)", errno: code)
        }
        try Socket.setNonBlocking(fd)
        return fd
    }

    /// Writes as much of `outgoing` as the socket takes; true if everything went.
    func sendPending() throws -> Bool {
        if outgoingStart < outgoing.count {
            let result = try outgoing.withUnsafeBytes { bytes in
                try Socket.write(fd, UnsafeRawBufferPointer(rebasing: bytes[outgoingStart...]))
            }
            if case .done(let count) = result { outgoingStart += count }
        }
        if outgoingStart == outgoing.count {
            outgoing.removeAll(keepingCapacity: true)
            outgoingStart = 0
            return true
        }
        return false
    }

    func close() {
        guard isOpen else { return }
        isOpen = false
        readWatcher?.stop()
        writeWatcher?.stop()
        readWatcher = nil
        writeWatcher = nil
        Socket.close(fd)
    }
}

/// The loopback source address `index` of network `net`: 127.net.hi.lo, skipping 127.0.0.1.
func sourceAddress(net: Int, index: Int) -> String {
    let number = index + 2
    return "127.\(net).\(number / 250).\(number % 250)"
}
