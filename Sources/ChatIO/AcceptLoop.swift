import ChatCore
import EventIO
import Glibc

/// Where clients come in: the plaintext and TLS listening sockets and their watchers, a bounded
/// accept loop per callback, the reserve-descriptor trick at EMFILE/ENFILE (libev manual, "The
/// special problem of accept()ing when you can't"), a rest after any other accept error, the TLS
/// port's rest at its bound on handshakes in flight, and one rate limit for the log lines of all
/// of these. Each accepted socket is admitted or refused, and followed until its handshake is
/// done (AcceptLoop+Admission.swift).
final class AcceptLoop {
    /// The plaintext listener; -1 (and no watcher) with `--no-plain`.
    let plainFD: Int32
    /// The TLS listener, when `--tls-port` is set.
    let tls: TLSListener?
    /// The plaintext port's address, else the TLS port's.
    let boundAddress: SocketAddress
    private var plainWatcher: IOWatcher?
    private var pauseTimer: TimerWatcher?
    /// Kept open so that at EMFILE one descriptor can be freed to accept and shed a client.
    private var reserveFD: Int32
    /// Accept problems logged at most once per interval (see `mayLog`).
    private var log = LogThrottle(every: IOLimits.acceptErrorLogInterval)

    /// Binds `config.host`:`config.port` (unless `--no-plain`) and the TLS port, or serves on
    /// `inherited` instead of the former: a listening socket from systemd's socket activation,
    /// which this then owns. Nothing is armed until `attach(to:)`.
    init(config: ServerConfig, inherited: Int32?) throws {
        let plain: (fd: Int32, address: SocketAddress)?
        if let inherited {  // socket activation: systemd bound it; options are still ours to set
            do {
                try Self.setClientSocketOptions(inherited)
                plain = (inherited, try Socket.localAddress(inherited))
            } catch {
                Socket.close(inherited)
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
        plainFD = plain?.fd ?? -1
        boundAddress = address
        self.tls = tls
        reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    deinit {
        plainWatcher = nil
        if plainFD >= 0 { Socket.close(plainFD) }
        if reserveFD >= 0 { Socket.close(reserveFD) }
    }

    /// Makes the watchers; accepted sockets go to `server`, which owns this loop (hence the
    /// unowned captures).
    func attach(to server: ChatServer) {
        let reactor = server.reactor
        if plainFD >= 0 {
            plainWatcher = IOWatcher(reactor: reactor, fd: plainFD, events: .read) { [unowned self, unowned server] _ in
                accept(on: plainFD, for: server, refusalsInPlaintext: true) { PlainTransport(fd: $0) }
            }
        }
        if let tls {
            tls.watcher = IOWatcher(reactor: reactor, fd: tls.fd, events: .read) { [unowned self, unowned server] _ in
                accept(on: tls.fd, for: server, refusalsInPlaintext: false,
                       while: { server.timeouts.handshaking.count < server.config.tls.maxHandshakes }) { fd in
                    try tls.endpoint.makeTransport(fd: fd)
                }
            }
        }
        pauseTimer = TimerWatcher(reactor: reactor, after: IOLimits.acceptPauseSeconds, repeat: 0) { [unowned self, unowned server] in
            if !server.isShuttingDown {
                plainWatcher?.start()
                resumeTLSBelowBound(for: server)
            }
        }
    }

    /// Starts listening.
    func start() {
        plainWatcher?.start()
        tls?.watcher?.start()
    }

    /// Stops both listeners (and any pending restart): shutdown.
    func stop() {
        plainWatcher?.stop()
        tls?.watcher?.stop()
        pauseTimer?.stop()
    }

    /// Whether a log line about accepting may be written now: at most one per
    /// `IOLimits.acceptErrorLogInterval`, so a flood of refusals cannot flood the log.
    func mayLog(now: Double) -> Bool {
        log.occurred(now: now) != nil
    }

    /// Accepts up to `acceptsPerCallback` clients from `listener` while `mayAccept()` allows,
    /// each carried by the transport `makeTransport` builds for its socket. A client refused at
    /// once is told why in a plaintext line only where plaintext is what it speaks.
    private func accept(on listener: Int32, for server: ChatServer, refusalsInPlaintext: Bool, while mayAccept: () -> Bool = { true },
                        _ makeTransport: (Int32) throws -> Transport) {
        for _ in 0..<IOLimits.acceptsPerCallback {
            // Each admission renders a welcome and a replay: past the pass budget the rest wait in
            // the kernel's accept queue for the next pass (the listener fires again).
            if server.hub.outbox.renderedBytes >= IOLimits.passRenderBudget { return }
            guard mayAccept() else { return }
            let accepted: (fd: Int32, address: SocketAddress)?
            do {
                accepted = try Socket.accept(listener)
            } catch {
                acceptFailed(error, on: listener, for: server, refusalsInPlaintext: refusalsInPlaintext)
                return
            }
            guard let (fd, address) = accepted else { return }
            admit(fd: fd, address: address, refusalsInPlaintext: refusalsInPlaintext, for: server, makeTransport)
        }
    }

    private func acceptFailed(_ error: SystemError, on listener: Int32, for server: ChatServer, refusalsInPlaintext: Bool) {
        if error.errno == EMFILE || error.errno == ENFILE, reserveFD >= 0 {
            // Free the reserve, take the waiting client off the queue and shed it, re-reserve.
            Socket.close(reserveFD)
            if let shed = try? Socket.accept(listener) {
                server.counters.refusedNoDescriptors &+= 1
                Self.refuse(shed.fd, "the server has no free descriptors; try again later", inPlaintext: refusalsInPlaintext)
            }
            reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        // Rest the listeners either way: level-triggered, they would otherwise fire again at once.
        plainWatcher?.stop()
        tls?.watcher?.stop()
        pauseTimer?.schedule(after: IOLimits.acceptPauseSeconds)
        if mayLog(now: server.reactor.now) {
            server.logger.warning("\(error); \(server.liveConnections) clients connected; pausing accepts for \(IOLimits.acceptPauseSeconds)s")
        }
    }

    /// Writes one error line to a client we will not keep, best effort, and closes it. A client
    /// still to make its TLS handshake could not read the line, so it only sees the close.
    static func refuse(_ fd: Int32, _ text: String, code: ErrorCode = .serverFull, inPlaintext: Bool = true) {
        if inPlaintext {
            let line = Array("ERROR \(code.rawValue): \(text)\n".utf8)
            _ = line.withUnsafeBytes { try? Socket.write(fd, $0) }
        }
        Socket.close(fd)
    }

    // MARK: The TLS port's bound on handshakes in flight

    /// At the bound on handshakes in flight the TLS listener rests (new clients wait in the
    /// kernel's accept queue), with at most one log line per `acceptErrorLogInterval`.
    func pauseTLSAtBound(for server: ChatServer) {
        guard let tls, let watcher = tls.watcher, watcher.isActive,
              server.timeouts.handshaking.count >= server.config.tls.maxHandshakes else { return }
        watcher.stop()
        let now = server.reactor.now
        if now - tls.lastBoundLog >= IOLimits.acceptErrorLogInterval {
            tls.lastBoundLog = now
            server.logger.notice("\(server.timeouts.handshaking.count) TLS handshakes in flight, the most allowed (--tls-max-handshakes): new TLS clients wait")
        }
    }

    /// Listens on the TLS port again once a handshake ends below the bound (unless accepts are
    /// resting after an error, or the server is shutting down).
    func resumeTLSBelowBound(for server: ChatServer) {
        guard let watcher = tls?.watcher, !watcher.isActive, !server.isShuttingDown, pauseTimer?.isActive != true,
              server.timeouts.handshaking.count < server.config.tls.maxHandshakes else { return }
        watcher.start()
    }

    // MARK: Listening sockets

    /// Options every client socket gets, set once on the listener: Linux copies TCP_NODELAY,
    /// SO_KEEPALIVE and the keepalive timings to each accepted socket (checked on this kernel
    /// with getsockopt), which saves five setsockopt calls per accept. Nagle would only delay
    /// lines that are already coalesced per iteration; keepalive finds peers that vanished
    /// without a FIN in about two minutes instead of the kernel's two hours.
    static func setClientSocketOptions(_ fd: Int32) throws(SystemError) {
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
        do throws(SystemError) {
            try setClientSocketOptions(fd)
            return (fd, try Socket.localAddress(fd))
        } catch {
            Socket.close(fd)
            throw error
        }
    }
}
