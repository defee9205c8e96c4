import CLibEv
import ChatCore
import Glibc

/// Accepting clients without ever spinning: a bounded loop per callback, the reserve-descriptor
/// trick at EMFILE/ENFILE (libev manual, "The special problem of accept()ing when you can't"),
/// and a paused listener with a rate-limited log for anything else.
extension ChatServer {
    func acceptReady() {
        for _ in 0..<IOLimits.acceptsPerCallback {
            // Each admission renders a welcome and a replay: past the pass budget the rest wait in
            // the kernel's accept queue for the next pass (the listener fires again).
            if hub.outbox.renderedBytes >= IOLimits.passRenderBudget { return }
            let accepted: (fd: Int32, address: SocketAddress)?
            do {
                accepted = try Socket.accept(listenFD)
            } catch let error as SystemError {
                acceptFailed(error)
                return
            } catch {
                return
            }
            guard let (fd, address) = accepted else { return }
            admit(fd: fd, address: address)
        }
    }

    private func acceptFailed(_ error: SystemError) {
        if error.errno == EMFILE || error.errno == ENFILE, reserveFD >= 0 {
            // Free the reserve, take the waiting client off the queue and shed it, re-reserve.
            Socket.close(reserveFD)
            if let shed = try? Socket.accept(listenFD) {
                counters.refusedNoDescriptors &+= 1
                refuse(shed.fd, "the server has no free descriptors; try again later")
            }
            reserveFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        // Rest the listener either way: level-triggered, it would otherwise fire again at once.
        listenWatcher.stop()
        acceptPauseTimer.schedule(after: IOLimits.acceptPauseSeconds)
        let now = reactor.now
        if now - lastAcceptErrorLog >= IOLimits.acceptErrorLogInterval {
            lastAcceptErrorLog = now
            logger.warning("\(error); \(liveConnections) clients connected; pausing accepts for \(IOLimits.acceptPauseSeconds)s")
        }
    }

    /// Writes one error line to a client we will not keep, best effort, and closes it.
    func refuse(_ fd: Int32, _ text: String, code: ErrorCode = .serverFull) {
        let line = Array("ERROR \(code.rawValue): \(text)\n".utf8)
        _ = line.withUnsafeBytes { try? Socket.write(fd, $0) }
        Socket.close(fd)
    }

    private func admit(fd: Int32, address: SocketAddress) {
        if liveConnections >= maxClients || isShuttingDown {
            if isShuttingDown { counters.refusedShuttingDown &+= 1 } else { counters.refusedServerFull &+= 1 }
            refuse(fd, isShuttingDown ? "the server is shutting down" : "the server is full (\(maxClients) clients); try again later")
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
        let fromHost = clientsPerAddress[host] ?? 0
        if config.maxClientsPerAddress > 0 && fromHost >= config.maxClientsPerAddress {
            counters.refusedPerAddress &+= 1
            refuse(fd, "\(host) already has \(fromHost) connections, the most allowed", code: .tooManyFromAddress)
            return
        }
        clientsPerAddress[host] = fromHost + 1
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = Int32(connections.count)
            connections.append(nil)
        }
        let id = ClientID(Int(slot))
        let connection = Connection(id: id, fd: fd, address: text, maxLineBytes: config.chat.maxLineBytes,
                                    bucket: config.makeBucket(now: reactor.now), server: self)
        connections[Int(slot)] = connection
        liveConnections += 1
        counters.accepted &+= 1
        connection.startReading(reactor.loop)
        if config.idleTimeout > 0 { idleClients.touch(id, at: reactor.now) }
        hub.connect(id, address: text)
        logger.info("client \(text) connected; \(liveConnections) connected", metadata: ["client": "\(text)", "clients": .stringConvertible(liveConnections)])
    }
}
