import ChatCore
import Glibc

/// Reading, flood control and the input timeouts.
///
/// Flood control never drops a line: when a client's token bucket is empty the rest of what it
/// sent stays held in order and its socket is not read, so the kernel pushes back on the
/// sender. A flood timer releases held lines as tokens return and disconnects a client that
/// stays held back for `floodSeconds`.
///
/// Timeouts use one housekeeping timer and two activity-ordered lists (idle clients, clients
/// holding an unfinished line): each check looks only at the oldest entries, so a timeout costs
/// O(1) per read instead of a timer restart per connection.
extension ChatServer {
    func readReady(_ connection: Connection) {
        if connection.isClosed { return }
        let result: IOResult
        do {
            result = try Socket.read(connection.fd, into: readBuffer)
        } catch let error as SystemError {
            close(connection, reason: "connection lost", log: error.errno == ECONNRESET ? "connection reset" : "\(error)")
            return
        } catch {
            close(connection, reason: "connection lost", log: "\(error)")
            return
        }
        switch result {
        case .done(let count):
            process(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), from: connection)
        case .endOfFile:
            // Half-close: answer what was already sent, then close (so `printf ... | nc -N` works).
            connection.stopReading(reactor.loop)
            connection.peerClosed = true
            if connection.heldEvents.isEmpty { hub.dismiss(connection.id, reason: "connection lost") }
            logger.debug("client \(connection.address) closed its side")
        case .wouldBlock:
            break
        }
    }

    private func process(_ bytes: UnsafeRawBufferPointer, from connection: Connection) {
        let id = connection.id
        let hub = self.hub
        hub.now = reactor.now
        if config.idleTimeout > 0 { idleClients.touch(id, at: reactor.now) }
        if connection.bucket == nil {
            connection.framer.feed(bytes) { hub.handle($0, from: id) }
        } else {
            let now = reactor.now
            connection.framer.feed(bytes) { event in
                if connection.heldEvents.isEmpty && (connection.bucket?.take(now: now) ?? true) {
                    hub.handle(event, from: id)
                } else {
                    connection.heldEvents.append(event)
                }
            }
            if !connection.heldEvents.isEmpty { throttle(connection) }
        }
        trackPartialLine(connection)
    }

    /// Holds a flooding client back: stop reading it until its bucket refills.
    private func throttle(_ connection: Connection) {
        connection.stopReading(reactor.loop)
        if connection.throttledSince == nil {
            connection.throttledSince = reactor.now
            throttledClients.append(connection.id)
            logger.debug("client \(connection.address) is flooding; reads paused")
        }
        if !floodTimer.isActive { floodTimer.start() }
    }

    /// The flood timer: hands held lines to the hub as tokens return; resumes reading once a
    /// client's backlog of held lines is gone; disconnects one held back for too long.
    func releaseHeldLines() {
        let now = reactor.now
        hub.now = now
        var stillHeld: [ClientID] = []
        for id in throttledClients {
            guard let connection = connection(id), !connection.isClosed else { continue }
            var released = 0
            while released < connection.heldEvents.count, connection.bucket?.take(now: now) ?? true {
                hub.handle(connection.heldEvents[released], from: id)
                released += 1
            }
            connection.heldEvents.removeFirst(released)
            if connection.heldEvents.isEmpty {
                connection.throttledSince = nil
                if connection.peerClosed {
                    hub.dismiss(id, reason: "connection lost")
                } else if !connection.closeAfterFlush && connection.penaltyUntil == nil {
                    connection.startReading(reactor.loop)
                }
            } else if let since = connection.throttledSince, now - since >= config.floodSeconds {
                connection.heldEvents = []
                hub.expel(id, .flood, "more than \(config.maxLineRate) lines per second for \(Int(config.floodSeconds))s; closing the connection", reason: "flooding")
                logger.notice("client \(connection.address) disconnected for flooding")
            } else {
                stillHeld.append(id)
            }
        }
        throttledClients = stillHeld
        if throttledClients.isEmpty { floodTimer.stop() }
    }

    private func trackPartialLine(_ connection: Connection) {
        guard config.partialLineTimeout > 0 else { return }
        if connection.framer.hasPartialLine {
            if !partialLineClients.contains(connection.id) { partialLineClients.touch(connection.id, at: reactor.now) }
        } else {
            partialLineClients.remove(connection.id)
        }
    }

    /// Closes clients whose idle or partial-line time ran out; called once a second.
    func enforceTimeouts() {
        if config.idleTimeout > 0 {
            expire(&idleClients, after: config.idleTimeout, .idle, "nothing received for \(Int(config.idleTimeout))s", reason: "idle timeout")
        }
        if config.partialLineTimeout > 0 {
            expire(&partialLineClients, after: config.partialLineTimeout, .lineTimeout,
                   "an unfinished line was held for \(Int(config.partialLineTimeout))s", reason: "line timeout")
        }
    }

    /// Expels every client at the front of `list` whose time there exceeds `limit`.
    private func expire(_ list: inout ActivityList, after limit: Double, _ code: ErrorCode, _ text: String, reason: String) {
        let now = reactor.now
        while let (id, since) = list.oldest, now - since >= limit {
            list.remove(id)
            guard let connection = connection(id), !connection.isClosed else { continue }
            hub.expel(id, code, "\(text); closing the connection", reason: reason)
            connection.stopReading(reactor.loop)
        }
    }
}
