import CLibEv
import ChatCore
import ChatStore
import EventIO
import Glibc
import Logging

/// The daemon: a listener, a table of connections and the `Hub`, on one reactor.
///
/// Per loop iteration: read callbacks frame input and hand lines to the hub, which queues
/// rendered bytes in its outbox; just before the loop sleeps, `flushAll()` writes every dirty
/// client with one `sendmsg` of iovecs and arms a write watcher only for clients whose socket was full.
/// Connections are never closed while the outbox is being traversed: failures found there are
/// collected and closed afterwards (redis's `freeClientAsync`).
public final class ChatServer {
    public let reactor: Reactor
    public let hub: Hub
    public private(set) var config: ServerConfig
    public let boundAddress: SocketAddress
    public private(set) var maxClients: Int
    var logger: Logger

    /// The plaintext listener; -1 (and no watcher) with `--no-plain`.
    let listenFD: Int32
    var listenWatcher: IOWatcher?
    /// The TLS listener, when `--tls-port` is set (ChatServer+TLS.swift).
    let tlsListener: TLSListener?
    /// Clients whose transport handshake has not finished, oldest first (ChatServer+Handshake.swift).
    var handshakingClients = ActivityList()
    var acceptPauseTimer: TimerWatcher!
    var housekeepingTimer: TimerWatcher!
    private var prepareWatcher: PrepareWatcher!
    /// Kept open so that at EMFILE one descriptor can be freed to accept and shed a client.
    var reserveFD: Int32
    var lastAcceptErrorLog = -Double.infinity

    /// The connection table: the one strong owner of connections (ConnectionTable.swift).
    var table = ConnectionTable()
    /// Clients to close once the current traversal ends, with the reason.
    var deferredCloses: [(ClientID, String)] = []
    var isShuttingDown = false
    /// Clients whose input is held (flood control or the per-pass budget), and the timer
    /// that frames it again.
    var heldClients: [ClientID] = []
    var heldInputTimer: TimerWatcher!
    /// Timeout bookkeeping (see ChatServer+Input.swift).
    var idleClients = ActivityList()
    var partialLineClients = ActivityList()
    /// Clients that quit or half-closed, waiting for their output to drain: closed anyway
    /// after `IOLimits.closeLingerSeconds`, whatever their backlog.
    var lingeringClients = ActivityList()
    /// Bytes every client pins (output backlogs and held input), kept exact by `Connection`;
    /// bounded by `config.maxClientMemory`.
    var clientMemoryBytes = 0
    /// When housekeeping last gave free heap pages back (`MemoryReturn.trim`).
    var lastMemoryTrim = 0.0
    var shutdownTimer: TimerWatcher?
    /// History persistence (ChatServer+History.swift); nil when history is off or in memory only.
    var storeWriter: StoreWriter?
    /// Hand-over batches the writer has not committed yet, and their lines in all (see
    /// `historyWriterIsBehind`).
    var historyInFlight: [(batch: UInt64, lines: Int)] = []
    var historyLinesInFlight = 0
    var storeInbox: AsyncInbox<StoreWriter.Report>?
    /// Password hashing (ChatServer+Accounts.swift); nil until accounts are enabled.
    var hasher: PasswordHasher?
    var authInbox: AsyncInbox<AuthResult>?
    /// Jobs handed to the hashing thread and not yet back (at most
    /// `PasswordHasher.jobsInFlight`; the rest wait in the hub's fair queue).
    var hashJobsInFlight = 0
    /// Commit reports for account changes whose clients wait (ChatServer+Accounts.swift).
    var accountWriteInbox: AsyncInbox<AccountWriteReport>?
    /// Clients whose reads are paused for a wrong server password.
    var penalisedClients: [ClientID] = []
    let startTime: Double
    var lastRelayed: UInt64 = 0
    /// Metrics (ChatServer+Metrics.swift): running totals, the worker threads' figures, and
    /// with `--metrics` the endpoint and the loop clock.
    var counters = ServerCounters()
    let workerMetrics = WorkerMetrics()
    var metricsListener: MetricsListener?
    var loopClock: LoopIterationClock?

    /// One read buffer for all clients (single-threaded), allocated once.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Scratch iovecs for `sendmsg`, allocated once.
    let iovecs: UnsafeMutablePointer<iovec>

    /// Binds `config.host`:`config.port`, or serves on `listener` instead: a listening socket
    /// inherited from systemd's socket activation, which the server then owns.
    public init(config: ServerConfig, reactor: Reactor, logger: Logger, descriptorLimit: Int, listener: Int32? = nil) throws {
        self.config = config
        self.reactor = reactor
        self.logger = logger
        self.hub = Hub(limits: config.chat)
        hub.outbox.setFullAllowance(config.outputAllowance)
        hub.motd = config.motd
        hub.operators = Set(config.operators.map(NameRules.fold))
        hub.operatorAccounts = config.operatorAccounts
        startTime = reactor.now
        maxClients = config.clientLimit(descriptorLimit: descriptorLimit)
        let plain: (fd: Int32, address: SocketAddress)?
        if let listener {  // socket activation: systemd bound it; options are still ours to set
            do {
                try Self.setClientSocketOptions(listener)
                plain = (listener, try Socket.localAddress(listener))
            } catch {
                Socket.close(listener)
                throw error
            }
        } else {
            plain = config.listensInPlaintext ? try Self.openListener(host: config.host, port: config.port, backlog: config.listenBacklog) : nil
        }
        let tls: TLSListener?
        do {
            tls = try TLSListener.open(config, readBytes: IOLimits.readBufferBytes)
        } catch {
            if let plain { Socket.close(plain.fd) }
            throw error
        }
        guard let address = plain?.address ?? tls?.address else { throw TLSError("nothing to listen on: --no-plain needs --tls-port") }
        listenFD = plain?.fd ?? -1
        boundAddress = address
        tlsListener = tls
        reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        readBuffer = .allocate(byteCount: IOLimits.readBufferBytes, alignment: 16)
        iovecs = .allocate(capacity: IOLimits.iovecsPerWrite)
        if listenFD >= 0 {
            listenWatcher = IOWatcher(reactor: reactor, fd: listenFD, events: .read) { [unowned self] _ in acceptReady() }
        }
        tls?.watcher = IOWatcher(reactor: reactor, fd: tls?.fd ?? -1, events: .read) { [unowned self] _ in tlsAcceptReady() }
        acceptPauseTimer = TimerWatcher(reactor: reactor, after: IOLimits.acceptPauseSeconds, repeat: 0) { [unowned self] in
            if !isShuttingDown { resumeListeners() }
        }
        housekeepingTimer = TimerWatcher(reactor: reactor, after: 1, repeat: 1) { [unowned self] in housekeeping() }
        heldInputTimer = TimerWatcher(reactor: reactor, after: IOLimits.floodTickSeconds, repeat: IOLimits.floodTickSeconds) { [unowned self] in
            frameHeldInput()
        }
        prepareWatcher = PrepareWatcher(reactor: reactor) { [unowned self] in
            flushAll()
            loopClock?.iterationEnded()
        }
    }

    deinit {
        for connection in table.all where !connection.isClosed {
            connection.stopWatchers(reactor.loop)
            Socket.close(connection.fd)
            connection.isClosed = true
        }
        listenWatcher = nil
        if listenFD >= 0 { Socket.close(listenFD) }
        if reserveFD >= 0 { Socket.close(reserveFD) }
        readBuffer.deallocate()
        iovecs.deallocate()
    }

    /// Options every client socket gets, set once on the listener: Linux copies TCP_NODELAY,
    /// SO_KEEPALIVE and the keepalive timings to each accepted socket (checked on this kernel
    /// with getsockopt), which saves five setsockopt calls per accept. Nagle would only delay
    /// lines that are already coalesced per iteration; keepalive finds peers that vanished
    /// without a FIN in about two minutes instead of the kernel's two hours.
    static func setClientSocketOptions(_ fd: Int32) throws {
        try Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "TCP_NODELAY")
        try Socket.setOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE")
        try Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, IOLimits.keepaliveIdleSeconds, "TCP_KEEPIDLE")
        try Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, IOLimits.keepaliveIntervalSeconds, "TCP_KEEPINTVL")
        try Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, IOLimits.keepaliveProbes, "TCP_KEEPCNT")
    }

    /// A listening socket on `host`:`port` with the client socket options set; its bound address.
    static func openListener(host: String, port: UInt16, backlog: Int32) throws -> (fd: Int32, address: SocketAddress) {
        let address = try SocketAddress(host: host, port: port)
        let fd = try Socket.listen(on: address, backlog: backlog)
        do {
            try setClientSocketOptions(fd)
            return (fd, try Socket.localAddress(fd))
        } catch {
            Socket.close(fd)
            throw error
        }
    }

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
        reloadTLS()
        hub.outbox.setFullAllowance(next.outputAllowance)
        hub.motd = next.motd
        maxClients = next.clientLimit(descriptorLimit: descriptorLimit)
        logger.logLevel = logLevel
        applyOperators(next)
        logOperators()
        let now = reactor.now
        for connection in table.all {
            connection.bucket = next.makeBucket(now: now)
        }
    }

    /// Starts accepting and flushing; the caller runs the reactor.
    public func start() {
        listenWatcher?.start()
        tlsListener?.watcher?.start()
        prepareWatcher.start()
        housekeepingTimer.start()
    }

    func connection(_ id: ClientID) -> Connection? { table[id] }

    /// Clients connected now.
    public var liveConnections: Int { table.liveCount }

    /// The connection table's slots (for tests and metrics): nil where a slot is free.
    var connections: ContiguousArray<Connection?> { table.slots }

    // MARK: Closing

    /// Closes a client now: stops its watchers, closes the socket, tells its rooms.
    /// Must not be called while the outbox is being traversed (use `deferredCloses`).
    func close(_ connection: Connection, reason: String, log detail: String) {
        guard !connection.isClosed else { return }
        connection.transport.close(sink: connection)
        connection.isClosed = true
        connection.stopWatchers(reactor.loop)
        if let error = Socket.close(connection.fd) { logger.warning("\(error)") }
        if !connection.isEstablished { handshakeEnded(connection) }
        let id = connection.id
        let name = hub.name(of: id)
        hub.outbox.discard(id)
        hub.disconnect(id, reason: reason, cause: connection.departure ?? (isShuttingDown ? .shutdown : .reset))
        let cause = hub.takeDeparture(id) ?? .reset
        idleClients.remove(id)
        partialLineClients.remove(id)
        lingeringClients.remove(id)
        connection.releaseBuffers()
        table.remove(connection)
        let shown = name.map { $0 == connection.address ? $0 : "\(connection.address) (\($0))" } ?? connection.address
        logger.info("client \(shown) disconnected: \(detail); \(liveConnections) remaining",
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
        lingeringClients.touch(connection.id, at: reactor.now)
    }
}
