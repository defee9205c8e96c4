import CLibEv
import ChatCore
import ChatStore
import EventIO
import Glibc
import Logging

/// The daemon: a listener, a table of connections and the `Hub`, on one reactor.
///
/// Per loop iteration: read callbacks frame input and hand lines to the hub, which queues
/// rendered bytes in its outbox; just before the loop sleeps, `output.flushAll` writes every
/// dirty client with one `sendmsg` of iovecs and arms a write watcher only for clients whose
/// socket was full. Connections are never closed while the outbox is being traversed: failures
/// found there are collected and closed afterwards (redis's `freeClientAsync`).
///
/// The server owns the state they share (config, hub, connection table, timeouts, counters)
/// and closing a client; each responsibility is a type it holds and calls directly, passing
/// itself (+0, no protocol or closure in between, so the fan-out path stays direct): accepting
/// and admission (`AcceptLoop`), input (`ClientInput`), output and its limits (`ClientOutput`),
/// read pauses (`ReadPauses`) and the once-a-second checks (`Housekeeping`).
public final class ChatServer {
    public let reactor: Reactor
    public let hub: Hub
    public private(set) var config: ServerConfig
    public private(set) var maxClients: Int
    var logger: Logger

    /// The listening sockets and the accept loop (AcceptLoop.swift).
    let acceptLoop: AcceptLoop
    private var prepareWatcher: PrepareWatcher!

    /// The connection table: the one strong owner of connections (ConnectionTable.swift).
    var table = ConnectionTable()
    var isShuttingDown = false
    /// Bytes every client pins (output backlogs and held input), kept exact by `Connection` on
    /// every buffer change (a field of the server, one load away from it); `ClientOutput` holds
    /// it to `config.maxClientMemory`.
    var clientMemoryBytes = 0
    /// Reading, framing, flood control and held input (ClientInput.swift).
    let input = ClientInput()
    /// Flushing, backlogs, output limits and the client-memory budget (ClientOutput.swift).
    let output = ClientOutput()
    /// Each connection's protocol, chosen from its first bytes (ProtocolDetection.swift).
    let detection = ProtocolDetection()
    /// The once-a-second checks (Housekeeping.swift).
    let housekeeping: Housekeeping
    /// Who is waiting for which timeout (ClientTimeouts.swift).
    var timeouts = ClientTimeouts()
    var shutdownTimer: TimerWatcher?
    /// The store writer and what it has not committed yet (StoreLink.swift).
    var store = StoreLink()
    /// The hashing thread and account writes in flight (PasswordWork.swift).
    var passwordWork = PasswordWork()
    /// Where accounts and server bans are stored (AccountStorage.swift): the database, Redis on
    /// a cluster node, or nil (kept in memory until exit).
    var accountStorage: AccountStorage?
    /// Where the lines said here are stored (HistoryStorage.swift): the database, Redis streams
    /// on a cluster node, or nil (history in memory only, or off).
    var historyStorage: HistoryStorage?
    /// Reads paused for a wrong server password or a pending password command (ReadPauses.swift).
    let readPauses = ReadPauses()
    /// Metrics (ChatServer+Metrics.swift): running totals, the worker threads' figures, and
    /// with `--metrics` the endpoint and the loop clock.
    var counters = ServerCounters()
    let workerMetrics = WorkerMetrics()
    var metrics: MetricsEndpoint?

    /// Binds `config.host`:`config.port`, or serves on `listener` instead: a listening socket
    /// inherited from systemd's socket activation, which the server then owns.
    public init(config: ServerConfig, reactor: Reactor, logger: Logger, descriptorLimit: Int, listener: Int32? = nil) throws {
        self.config = config
        self.reactor = reactor
        self.logger = logger
        self.hub = Hub(limits: config.chat)
        hub.outbox.setFullAllowance(config.outputAllowance)
        hub.motd = config.motd
        hub.ircTimeouts = config.irc
        hub.operators = Set(config.operators.map(NameRules.fold))
        hub.operatorAccounts = config.operatorAccounts
        housekeeping = Housekeeping(startTime: reactor.now)
        maxClients = config.clientLimit(descriptorLimit: descriptorLimit)
        acceptLoop = try AcceptLoop(config: config, inherited: listener)
        prepareWatcher = PrepareWatcher(reactor: reactor) { [unowned self] in
            output.flushAll(for: self)
            metrics?.loopClock.iterationEnded()
        }
        acceptLoop.attach(to: self)
        input.attach(to: self)
        detection.attach(to: self)
        housekeeping.attach(to: self)
    }

    deinit {
        for connection in table.all where !connection.isClosed {
            connection.stopWatchers(reactor.loop)
            Socket.close(connection.fd)
            connection.isClosed = true
        }
    }

    /// The address clients connect to: the plaintext port's, else the TLS port's.
    public var boundAddress: SocketAddress { acceptLoop.boundAddress }

    /// Applies reloaded settings (SIGHUP; see `DaemonSettings.loaded`), all of them here, the
    /// MOTD included, without dropping anyone: limits and timeouts take effect at their next
    /// check, flood control is re-armed for every client now, and the listening address and
    /// line length stay as they were.
    public func reload(_ updated: ServerConfig, logLevel: Logger.Level, descriptorLimit: Int) {
        var next = updated
        next.host = config.host
        next.port = config.port
        next.listensInPlaintext = config.listensInPlaintext
        next.tls.port = config.tls.port
        next.chat = config.chat
        config = next
        reloadTLSCertificate()
        detection.waitChanged(for: self)
        acceptLoop.resumeTLSBelowBound(for: self)  // a raised --tls-max-handshakes takes effect now
        hub.outbox.setFullAllowance(next.outputAllowance)
        hub.motd = next.motd
        hub.ircTimeouts = next.irc
        maxClients = next.clientLimit(descriptorLimit: descriptorLimit)
        logger.logLevel = logLevel
        applyOperators(next)
        logOperators()
        let now = reactor.now
        for connection in table.all {
            connection.bucket = next.makeBucket(now: now)
        }
    }

    /// Re-reads the TLS certificate and key at the configured paths (SIGHUP).
    public func reloadTLSCertificate() { acceptLoop.tls?.reloadCertificate(config.tls, logger: logger) }

    /// Starts accepting and flushing; the caller runs the reactor.
    public func start() {
        acceptLoop.start()
        prepareWatcher.start()
        housekeeping.start()
    }

    func connection(_ id: ClientID) -> Connection? { table[id] }

    /// The read and write watchers' callbacks (Connection.swift). Kept out of line so the C
    /// callback passes the connection's unowned server pointer straight in (+0) and `input` and
    /// `output` are reached through `self`: inlined, or called on `server.input` from the
    /// callback, they cost the server and the connection a retain per event.
    @inline(never) func readReady(_ connection: Connection) { input.readReady(connection, for: self) }
    @inline(never) func writeReady(_ connection: Connection) { output.writeReady(connection, for: self) }

    /// Clients connected now.
    public var liveConnections: Int { table.liveCount }

    /// The connection table's slots (for tests and metrics): nil where a slot is free.
    var connections: ContiguousArray<Connection?> { table.slots }

    // MARK: Closing

    /// Closes a client now: stops its watchers, closes the socket, tells its rooms.
    /// Must not be called while the outbox is being traversed (`ClientOutput` defers those closes).
    func close(_ connection: Connection, reason: String, log detail: String) {
        guard !connection.isClosed else { return }
        connection.transport.close(sink: connection)
        connection.isClosed = true
        connection.stopWatchers(reactor.loop)
        if let error = Socket.close(connection.fd) { logger.warning("\(error)") }
        if !connection.isEstablished { acceptLoop.handshakeEnded(connection, for: self) }
        let id = connection.id
        let name = hub.name(of: id)
        hub.outbox.discard(id)
        hub.disconnect(id, reason: reason, cause: connection.departure ?? (isShuttingDown ? .shutdown : .reset))
        let cause = hub.takeDeparture(id) ?? .reset
        timeouts.forget(id)
        connection.releaseBuffers()
        table.remove(connection)
        // Made inside the message, which is built only when `info` is logged.
        func shown() -> String { name.map { $0 == connection.address ? $0 : "\(connection.address) (\($0))" } ?? connection.address }
        logger.info("client \(shown()) disconnected: \(detail); \(liveConnections) remaining",
                    metadata: ["client": "\(connection.address)", "reason": "\(cause.label)", "detail": "\(detail)", "clients": .stringConvertible(liveConnections)])
    }

    /// Closes a client once its backlog is written (`/quit`, EOF, shutdown).
    func closeAfterFlush(_ connection: Connection, detail: String) {
        if connection.isClosed { return }
        if connection.pendingOutput == 0 {
            close(connection, reason: "quit", log: detail)
            return
        }
        connection.closeAfterFlush = true
        connection.stopReading(reactor.loop)
        timeouts.lingering.touch(connection.id, at: reactor.now)
    }
}
