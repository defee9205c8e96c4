import CLibEv
import ChatCore
import EventIO
import Glibc

/// Accepting clients without ever spinning: a bounded loop per callback, the reserve-descriptor
/// trick at EMFILE/ENFILE (libev manual, "The special problem of accept()ing when you can't"),
/// and a paused listener with a rate-limited log for anything else.
extension ChatServer {
    /// The plaintext listener's callback.
    func acceptReady() {
        accept(on: listenFD, refusalsInPlaintext: true) { PlainTransport(fd: $0) }
    }

    /// Accepts up to `acceptsPerCallback` clients from `listener` while `mayAccept()` allows,
    /// each carried by the transport `makeTransport` builds for its socket. A client refused at
    /// once is told why in a plaintext line only where plaintext is what it speaks.
    func accept(on listener: Int32, refusalsInPlaintext: Bool, while mayAccept: () -> Bool = { true },
                _ makeTransport: (Int32) throws -> Transport) {
        for _ in 0..<IOLimits.acceptsPerCallback {
            // Each admission renders a welcome and a replay: past the pass budget the rest wait in
            // the kernel's accept queue for the next pass (the listener fires again).
            if hub.outbox.renderedBytes >= IOLimits.passRenderBudget { return }
            guard mayAccept() else { return }
            let accepted: (fd: Int32, address: SocketAddress)?
            do {
                accepted = try Socket.accept(listener)
            } catch {
                acceptFailed(error, on: listener, refusalsInPlaintext: refusalsInPlaintext)
                return
            }
            guard let (fd, address) = accepted else { return }
            admit(fd: fd, address: address, refusalsInPlaintext: refusalsInPlaintext, makeTransport)
        }
    }

    /// Stops both listeners (and any pending restart): shutdown.
    func stopListeners() {
        listenWatcher?.stop()
        tlsListener?.watcher?.stop()
        acceptPauseTimer.stop()
    }

    /// After an accept pause: listen again (the TLS port only below its handshake bound).
    func resumeListeners() {
        listenWatcher?.start()
        resumeTLSBelowBound()
    }

    private func acceptFailed(_ error: SystemError, on listener: Int32, refusalsInPlaintext: Bool) {
        if error.errno == EMFILE || error.errno == ENFILE, reserveFD >= 0 {
            // Free the reserve, take the waiting client off the queue and shed it, re-reserve.
            Socket.close(reserveFD)
            if let shed = try? Socket.accept(listener) {
                counters.refusedNoDescriptors &+= 1
                refuse(shed.fd, "the server has no free descriptors; try again later", inPlaintext: refusalsInPlaintext)
            }
            reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        // Rest the listeners either way: level-triggered, they would otherwise fire again at once.
        listenWatcher?.stop()
        tlsListener?.watcher?.stop()
        acceptPauseTimer.schedule(after: IOLimits.acceptPauseSeconds)
        let now = reactor.now
        if now - lastAcceptErrorLog >= IOLimits.acceptErrorLogInterval {
            lastAcceptErrorLog = now
            logger.warning("\(error); \(liveConnections) clients connected; pausing accepts for \(IOLimits.acceptPauseSeconds)s")
        }
    }

    /// Writes one error line to a client we will not keep, best effort, and closes it. A client
    /// still to make its TLS handshake could not read the line, so it only sees the close.
    func refuse(_ fd: Int32, _ text: String, code: ErrorCode = .serverFull, inPlaintext: Bool = true) {
        if inPlaintext {
            let line = Array("ERROR \(code.rawValue): \(text)\n".utf8)
            _ = line.withUnsafeBytes { try? Socket.write(fd, $0) }
        }
        Socket.close(fd)
    }

    private func admit(fd: Int32, address: SocketAddress, refusalsInPlaintext: Bool, _ makeTransport: (Int32) throws -> Transport) {
        if liveConnections >= maxClients || isShuttingDown {
            if isShuttingDown { counters.refusedShuttingDown &+= 1 } else { counters.refusedServerFull &+= 1 }
            refuse(fd, isShuttingDown ? "the server is shutting down" : "the server is full (\(maxClients) clients); try again later",
                   inPlaintext: refusalsInPlaintext)
            let now = reactor.now
            if now - lastAcceptErrorLog >= IOLimits.acceptErrorLogInterval {
                lastAcceptErrorLog = now
                logger.warning("refused \(address): \(liveConnections) of \(maxClients) clients connected",
                               metadata: ["client": "\(address)", "reason": isShuttingDown ? "shutting_down" : "server_full", "clients": .stringConvertible(liveConnections)])
            }
            return
        }
        let text = address.description
        let host = ClientAddress.host(of: text)
        let fromHost = table.count(from: host)
        if config.maxClientsPerAddress > 0 && fromHost >= config.maxClientsPerAddress {
            counters.refusedPerAddress &+= 1
            refuse(fd, "\(host) already has \(fromHost) connections, the most allowed", code: .tooManyFromAddress, inPlaintext: refusalsInPlaintext)
            return
        }
        let transport: Transport
        do {
            transport = try makeTransport(fd)
        } catch {
            logger.warning("refused \(text): \(error)")
            Socket.close(fd)
            return
        }
        let connection = Connection(id: table.reserveID(), fd: fd, address: text, transport: transport, maxLineBytes: config.chat.maxLineBytes,
                                    bucket: config.makeBucket(now: reactor.now), server: self)
        table.insert(connection, host: host)
        counters.accepted &+= 1
        connection.startReading(reactor.loop)
        if transport.isEstablished {
            establish(connection)
        } else {
            handshakeStarted(connection)
        }
    }
}
