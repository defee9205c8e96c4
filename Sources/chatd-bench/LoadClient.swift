import EventIO
import Glibc

/// One benchmark connection: a socket, its watchers, unsent bytes and an unfinished line.
final class LoadClient {
    let index: Int
    let fd: Int32
    /// The TLS session (`--tls`), handshaken before the client is used; nil for plain TCP.
    let session: TLSClientSession?
    var readWatcher: IOWatcher?
    var writeWatcher: IOWatcher?
    /// Bytes not yet sent; keeps its capacity, since a sender refills it all the time.
    var outgoing = ByteQueue(keepsCapacity: true)
    /// Bytes after the last newline of the previous read.
    var partial: [UInt8] = []
    var isOpen = true
    /// On WebSocket (`--websocket`): lines go out as frames, and `partial` holds an unfinished
    /// server frame instead of an unfinished line.
    var webSocket = false

    /// Queues one line: as it is (newline added), or as one masked text frame.
    func queue(line: UnsafeRawBufferPointer) {
        if webSocket {
            WebSocketLink.appendFrame(line, to: &outgoing)
        } else {
            outgoing.append(line)
            outgoing.append(0x0A)
        }
    }

    init(index: Int, fd: Int32, session: TLSClientSession? = nil) {
        self.index = index
        self.fd = fd
        self.session = session
    }

    /// How long a load client's TLS handshake may take.
    static let handshakeSeconds = 10.0

    /// A TLS session on `fd` with its handshake finished (one at a time, so thousands of
    /// clients never queue up more handshakes than the server allows in flight).
    static func handshake(_ fd: Int32, context: TLSClientContext, host: String) throws -> TLSClientSession {
        let session = try TLSClientSession(context: context, fd: fd, host: host)
        try session.handshake(fd: fd, timeout: handshakeSeconds)
        return session
    }

    /// One read from the socket (through TLS when on).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> IOResult {
        if let session { return try session.read(into: buffer) }
        return try Socket.read(fd, into: buffer)
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
        while !outgoing.isEmpty {
            let session = session, fd = fd
            let result = try outgoing.withUnsafeBytes { rest in try session?.write(rest) ?? Socket.write(fd, rest) }
            guard case .done(let count) = result else { break }
            outgoing.consume(count)
            if session == nil { break }  // plain: one write per call, as before
        }
        return outgoing.isEmpty
    }

    func close() {
        guard isOpen else { return }
        isOpen = false
        readWatcher?.stop()
        writeWatcher?.stop()
        readWatcher = nil
        writeWatcher = nil
        session?.shutdown()
        Socket.close(fd)
    }
}

/// The loopback source address `index` of network `net`: 127.net.hi.lo, skipping 127.0.0.1.
func sourceAddress(net: Int, index: Int) -> String {
    let number = index + 2
    return "127.\(net).\(number / 250).\(number % 250)"
}
