import ChatCore
import EventIO
import Glibc

/// Reading, flood control, the per-pass render budget and the input timeouts.
///
/// Flood control never drops a line: when a client's token bucket is empty the rest of what it
/// sent is held, as raw bytes, and its socket is not read, so the kernel pushes back on the
/// sender. The same holding stops a client's input when this loop pass has already rendered
/// `IOLimits.passRenderBudget` bytes, so no pass renders without bound. The held-input timer feeds
/// held input again as tokens return (and the next pass starts with an empty arena), and
/// disconnects a client that flood control holds back for `floodSeconds`.
///
/// Timeouts use one housekeeping timer and two activity-ordered lists (idle clients, clients
/// holding an unfinished line): each check looks only at the oldest entries, so a timeout costs
/// O(1) per read instead of a timer restart per connection.
extension ChatServer {
    func readReady(_ connection: Connection) {
        if connection.isClosed { return }
        let result: TransportRead
        do {
            result = try connection.transport.read(into: readBuffer, sink: connection)
        } catch let error as SystemError {
            close(connection, reason: "connection lost", log: error.errno == ECONNRESET ? "connection reset" : "\(error)")
            return
        } catch {
            if connection.isEstablished {
                close(connection, reason: "connection lost", log: "\(error)")
            } else {
                handshakeFailed(connection, "\(error)")
            }
            return
        }
        if !transportOutputSent(connection) { return }
        if !connection.isEstablished {
            if connection.transport.isEstablished {
                establish(connection)
            } else {
                if result.ended { handshakeFailed(connection, "closed before its handshake finished") }
                return
            }
        }
        if result.count > 0 {
            counters.bytesReceived &+= UInt64(result.count)
            process(UnsafeRawBufferPointer(rebasing: readBuffer[0..<result.count]), from: connection)
        }
        if result.ended && !connection.isClosed {
            // Half-close: answer what was already sent, then close (so `printf ... | nc -N` works).
            connection.stopReading(reactor.loop)
            connection.peerClosed = true
            if connection.heldInput.isEmpty { endOfInput(connection) }
            logger.debug("client \(connection.address) closed its side")
        }
    }

    /// After a read: what the transport answered on its own (a handshake flight) is written or
    /// backlogged; a failed write closes the client (false).
    private func transportOutputSent(_ connection: Connection) -> Bool {
        if let failure = connection.writeFailure {
            close(connection, reason: "connection lost", log: failure.errno == EPIPE || failure.errno == ECONNRESET ? "connection reset" : "\(failure)")
            return false
        }
        if connection.pendingOutput > 0 && !connection.isWriting {
            connection.startWriting(reactor.loop)
            checkOutputLimits(connection)
        }
        return true
    }

    /// The peer sent its last byte and all of it has been framed: a final line without a
    /// newline still counts, then the client leaves once its answers are written.
    /// While a password command of the client's is unanswered this waits (`applyInputHolds`
    /// calls it again once the answer is in), so a last `/login` is answered before the close.
    func endOfInput(_ connection: Connection) {
        let id = connection.id
        let hub = self.hub
        if hub.isHoldingInput(id) { return }
        hub.now = reactor.now
        connection.framer.finish { hub.handle($0, from: id) }
        if hub.isHoldingInput(id) { return }  // that last line was a password command
        hub.dismiss(id, reason: "connection lost", cause: .closed)
    }

    private func process(_ bytes: UnsafeRawBufferPointer, from connection: Connection) {
        hub.now = reactor.now
        if config.idleTimeout > 0 { timeouts.idle.touch(connection.id, at: reactor.now) }
        let consumed = frame(bytes, from: connection)
        if consumed < bytes.count {
            connection.holdInput(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            hold(connection)
        }
        trackPartialLine(connection)
    }

    /// Frames `bytes` for the hub for as long as the client may send another line now; returns
    /// how many bytes were taken.
    private func frame(_ bytes: UnsafeRawBufferPointer, from connection: Connection) -> Int {
        let id = connection.id
        let hub = self.hub
        let now = reactor.now
        guard mayTakeLine(connection, now: now) else { return 0 }
        if connection.bucket == nil {
            return connection.framer.feedWhileAccepted(bytes) { event in
                hub.handle(event, from: id)
                return hub.outbox.renderedBytes < IOLimits.passRenderBudget && !hub.isHoldingInput(id) && !self.historyWriterIsBehind
            }
        }
        return connection.framer.feedWhileAccepted(bytes) { event in
            _ = connection.bucket?.take(now: now)
            hub.handle(event, from: id)
            return self.mayTakeLine(connection, now: now)
        }
    }

    /// Whether one more line from `connection` may be handled in this pass. Not while the hub
    /// holds its input (a password command of its is unanswered): the rest stays held as bytes.
    private func mayTakeLine(_ connection: Connection, now: Double) -> Bool {
        if hub.outbox.renderedBytes >= IOLimits.passRenderBudget || hub.isHoldingInput(connection.id) || historyWriterIsBehind { return false }
        return connection.bucket?.hasToken(now: now) ?? true
    }

    /// Stops reading a client whose input is held, until the held-input timer feeds it again.
    private func hold(_ connection: Connection) {
        connection.stopReading(reactor.loop)
        if connection.throttledSince == nil && !(connection.bucket?.hasToken(now: reactor.now) ?? true) {
            connection.throttledSince = reactor.now
            logger.debug("client \(connection.address) is flooding; reads paused")
        }
        if !heldClients.contains(connection.id) { heldClients.append(connection.id) }
        if !heldInputTimer.isActive { heldInputTimer.start() }
    }

    /// The held-input timer: frames held input again as tokens return; resumes reading once a
    /// client's held input is gone; disconnects one held back by flood control for too long.
    func frameHeldInput() {
        let now = reactor.now
        hub.now = now
        var stillHeld: [ClientID] = []
        for id in heldClients {
            guard let connection = connection(id), !connection.isClosed else { continue }
            let consumed = connection.heldInput.withUnsafeBytes { frame($0, from: connection) }
            connection.consumeHeldInput(consumed)
            if connection.heldInput.isEmpty {
                connection.throttledSince = nil
                if connection.peerClosed {
                    endOfInput(connection)
                } else if !connection.closeAfterFlush && connection.penaltyUntil == nil {
                    connection.startReading(reactor.loop)
                }
                trackPartialLine(connection)
                continue
            }
            let flooding = !(connection.bucket?.hasToken(now: now) ?? true)
            if flooding && connection.throttledSince == nil { connection.throttledSince = now }
            if flooding, let since = connection.throttledSince, now - since >= config.floodSeconds {
                connection.consumeHeldInput(connection.heldInput.count)
                hub.expel(id, .flood, "more than \(config.maxLineRate) lines per second for \(Int(config.floodSeconds))s; closing the connection", reason: "flooding")
                logger.notice("client \(connection.address) disconnected for flooding", metadata: ["client": "\(connection.address)", "reason": "flood"])
            } else {
                stillHeld.append(id)
            }
        }
        heldClients = stillHeld
        if heldClients.isEmpty { heldInputTimer.stop() }
    }

    /// At shutdown: every line already read is handled (relayed and stored) before the
    /// goodbye, whatever flood control or the pass budget would say.
    /// Between clients the output is flushed once the pass budget is passed, so even this pass
    /// keeps the arena bounded.
    func frameAllHeldInput() {
        hub.now = reactor.now
        for id in heldClients {
            if hub.outbox.renderedBytes >= IOLimits.passRenderBudget { flushAll() }
            guard let connection = connection(id), !connection.isClosed else { continue }
            let hub = self.hub
            connection.heldInput.withUnsafeBytes { bytes in connection.framer.feed(bytes) { hub.handle($0, from: id) } }
            connection.consumeHeldInput(connection.heldInput.count)
        }
        heldClients.removeAll()
    }

    /// Keeps the partial-line timeout list and the memory total right after framing.
    private func trackPartialLine(_ connection: Connection) {
        connection.countPartialLine()
        guard config.partialLineTimeout > 0 else { return }
        if connection.framer.hasPartialLine {
            if !timeouts.partialLine.contains(connection.id) { timeouts.partialLine.touch(connection.id, at: reactor.now) }
        } else {
            timeouts.partialLine.remove(connection.id)
        }
    }

    /// Closes clients whose idle or partial-line time ran out; called once a second.
    func enforceTimeouts() {
        if config.idleTimeout > 0 {
            expel(ClientTimeouts.expired(&timeouts.idle, after: config.idleTimeout, now: reactor.now),
                  .idle, "nothing received for \(Int(config.idleTimeout))s", reason: "idle timeout")
        }
        if config.partialLineTimeout > 0 {
            expel(ClientTimeouts.expired(&timeouts.partialLine, after: config.partialLineTimeout, now: reactor.now),
                  .lineTimeout, "an unfinished line was held for \(Int(config.partialLineTimeout))s", reason: "line timeout")
        }
    }

    /// Expels the clients whose timeout ran out.
    private func expel(_ expired: [ClientID], _ code: ErrorCode, _ text: String, reason: String) {
        for id in expired {
            guard let connection = connection(id), !connection.isClosed else { continue }
            hub.expel(id, code, "\(text); closing the connection", reason: reason)
            connection.stopReading(reactor.loop)
        }
    }
}
