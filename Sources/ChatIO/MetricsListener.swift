import CLibEv
import ChatCore
import EventIO
import Glibc
import Logging

/// The metrics endpoint: a second listening socket on the chat server's own reactor, answering
/// `GET /metrics` with the exposition (see `MetricsHTTP`) and closing every connection after
/// one answer.
///
/// It shares the loop with chat, so it is built never to hold it: at most `maxConnections`
/// at once (a newcomer beyond that evicts the oldest, so idle or slow-loris connections cannot
/// starve Prometheus), at most `MetricsHTTP.maxRequestBytes` of request read, every connection
/// closed `requestTimeoutSeconds` after it was accepted whatever it did, and the answer written
/// without blocking (a write watcher takes the rest if the socket is full).
final class MetricsListener {
    /// listen(2) backlog: scrapes come one at a time.
    static let backlog: Int32 = 64
    /// Connections held at once.
    static let maxConnections = 32
    /// Connections accepted per listener callback before other work gets a turn.
    static let acceptsPerCallback = 32
    /// The longest a connection lives: request, answer and the discard before closing.
    static let requestTimeoutSeconds = 5.0
    /// After the answer, how long the rest of a request is read and discarded before closing
    /// (closing a socket with unread input resets it, which can destroy the answer in flight).
    static let lingerSeconds = 1.0
    /// How often deadlines are checked.
    static let timerSeconds = 0.25
    /// Bytes read per read(2); a request head is at most `MetricsHTTP.maxRequestBytes`.
    static let readChunkBytes = 4096

    let fd: Int32
    let boundAddress: SocketAddress
    private let reactor: Reactor
    private let logger: Logger
    private let render: () -> [UInt8]
    private var acceptWatcher: IOWatcher!
    private var timer: TimerWatcher!
    /// Oldest first.
    private var connections: [MetricsConnection] = []
    /// Closed connections, released at the next callback rather than inside their own.
    private var retired: [MetricsConnection] = []
    private let readBuffer: UnsafeMutableRawBufferPointer
    /// Answers sent, by HTTP status.
    private(set) var answered: [Int: UInt64] = [:]

    /// Takes ownership of `fd`, a non-blocking listening socket.
    init(reactor: Reactor, fd: Int32, logger: Logger, render: @escaping () -> [UInt8]) throws {
        self.reactor = reactor
        self.fd = fd
        self.logger = logger
        self.render = render
        boundAddress = try Socket.localAddress(fd)
        readBuffer = .allocate(byteCount: Self.readChunkBytes, alignment: 16)
        acceptWatcher = IOWatcher(reactor: reactor, fd: fd, events: .read) { [unowned self] _ in acceptReady() }
        timer = TimerWatcher(reactor: reactor, after: Self.timerSeconds, repeat: Self.timerSeconds) { [unowned self] in expire() }
    }

    deinit {
        stop()
        acceptWatcher = nil
        Socket.close(fd)
        readBuffer.deallocate()
    }

    func start() { acceptWatcher.start() }

    /// Stops accepting and closes every connection.
    func stop() {
        acceptWatcher.stop()
        timer.stop()
        for connection in connections { close(connection) }
        retired.removeAll()
    }

    private func acceptReady() {
        retired.removeAll()
        for _ in 0..<Self.acceptsPerCallback {
            let accepted: (fd: Int32, address: SocketAddress)?
            do {
                accepted = try Socket.accept(fd)
            } catch {
                // EMFILE and the like: the chat listener's reserve handling covers the process;
                // here the connection simply waits in the backlog until a timer tick.
                logger.warning("metrics: \(error)")
                acceptWatcher.stop()
                timer.start()
                return
            }
            guard let (clientFD, _) = accepted else { return }
            if connections.count >= Self.maxConnections { close(connections[0]) }
            let connection = MetricsConnection(fd: clientFD, deadline: reactor.now + Self.requestTimeoutSeconds)
            connection.reader = IOWatcher(reactor: reactor, fd: clientFD, events: .read) { [unowned self, unowned connection] _ in
                readReady(connection)
            }
            connections.append(connection)
            connection.reader.start()
            if !timer.isActive { timer.start() }
        }
    }

    private func readReady(_ connection: MetricsConnection) {
        let result: IOResult
        do {
            result = try Socket.read(connection.fd, into: readBuffer)
        } catch {
            close(connection)
            return
        }
        switch result {
        case .wouldBlock:
            return
        case .endOfFile:
            close(connection)
        case .done(let count):
            guard case .reading = connection.state else { return }  // draining: discard
            connection.request.append(contentsOf: UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            if let route = MetricsHTTP.route(connection.request) { answer(connection, route) }
        }
    }

    private func answer(_ connection: MetricsConnection, _ route: MetricsHTTP.Route) {
        let status = MetricsHTTP.status(route)
        answered[status, default: 0] &+= 1
        let body: [UInt8]
        if case .metrics = route { body = render() } else { body = [] }
        connection.response = MetricsHTTP.response(route, body: body)
        connection.request = []
        connection.state = .writing
        connection.reader.stop()
        writeReady(connection)
    }

    private func writeReady(_ connection: MetricsConnection) {
        while connection.written < connection.response.count {
            let result: IOResult
            do {
                result = try connection.response[connection.written...].withUnsafeBytes { try Socket.write(connection.fd, $0) }
            } catch {
                close(connection)
                return
            }
            guard case .done(let count) = result else {
                if connection.writer == nil {
                    connection.writer = IOWatcher(reactor: reactor, fd: connection.fd, events: .write) { [unowned self, unowned connection] _ in
                        writeReady(connection)
                    }
                }
                connection.writer?.start()
                return
            }
            connection.written += count
        }
        connection.writer?.stop()
        connection.response = []
        // Half-close and read what is left until the client closes (or the linger time ends).
        shutdown(connection.fd, Int32(SHUT_WR))
        connection.state = .draining
        connection.deadline = min(connection.deadline, reactor.now + Self.lingerSeconds)
        connection.reader.start()
    }

    /// The timer: closes connections past their deadline, resumes accepting after an error.
    private func expire() {
        retired.removeAll()
        let now = reactor.now
        for connection in connections where connection.deadline <= now { close(connection) }
        if !acceptWatcher.isActive { acceptWatcher.start() }
        if connections.isEmpty { timer.stop() }
    }

    private func close(_ connection: MetricsConnection) {
        guard let index = connections.firstIndex(where: { $0 === connection }) else { return }
        connection.reader.stop()
        connection.writer?.stop()
        Socket.close(connection.fd)
        connections.remove(at: index)
        retired.append(connection)
    }
}

/// One HTTP connection to the metrics endpoint: it reads one request, writes one answer,
/// then discards input until the client closes.
final class MetricsConnection {
    enum State { case reading, writing, draining }

    let fd: Int32
    var deadline: Double
    var state = State.reading
    var request: [UInt8] = []
    var response: [UInt8] = []
    var written = 0
    var reader: IOWatcher!
    var writer: IOWatcher?

    init(fd: Int32, deadline: Double) {
        self.fd = fd
        self.deadline = deadline
    }
}
