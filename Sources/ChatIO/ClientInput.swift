import ChatCore
import EventIO
import Glibc

/// Clients' input: reading, framing, flood control and the per-pass render budget (redis's
/// `readQueryFromClient` side of networking.c). The server holds one and calls it directly from
/// the read watchers; it owns the shared read buffer and the held-input list and timer.
///
/// Flood control never drops a line: when a client's token bucket is empty the rest of what it
/// sent is held, as raw bytes, and its socket is not read, so the kernel pushes back on the
/// sender. The same holding stops a client's input when this loop pass has already rendered
/// `IOLimits.passRenderBudget` bytes, so no pass renders without bound. The held-input timer feeds
/// held input again as tokens return (and the next pass starts with an empty arena), and
/// disconnects a client that flood control holds back for `floodSeconds`.
///
/// The input timeouts (idle, unfinished line) are checked here too, once a second from
/// housekeeping, against `ClientTimeouts`' activity-ordered lists.
final class ClientInput {
    /// One read buffer for all clients (single-threaded), allocated once, freed in deinit.
    private let readBuffer: UnsafeMutableRawBufferPointer
    /// Clients whose input is held (flood control or the per-pass budget).
    private var heldClients: [ClientID] = []
    /// Frames held input again every `floodTickSeconds` while any is held (made by `attach`).
    private var heldInputTimer: TimerWatcher!

    init() {
        readBuffer = .allocate(byteCount: IOLimits.readBufferBytes, alignment: 16)
    }

    deinit { readBuffer.deallocate() }

    /// Makes the held-input timer, which calls back into `server` (unowned: it owns this).
    func attach(to server: ChatServer) {
        heldInputTimer = TimerWatcher(reactor: server.reactor, after: IOLimits.floodTickSeconds, repeat: IOLimits.floodTickSeconds) { [unowned server] in
            server.input.frameHeldInput(for: server)
        }
    }

    /// The read watcher's callback.
    func readReady(_ connection: Connection, for server: ChatServer) {
        if connection.isClosed { return }
        let result: TransportRead
        do {
            result = try connection.transport.read(into: readBuffer, sink: connection)
        } catch let error as SystemError {
            server.close(connection, reason: "connection lost", log: error.errno == ECONNRESET ? "connection reset" : "\(error)")
            return
        } catch {
            if connection.isEstablished {
                server.close(connection, reason: "connection lost", log: "\(error)")
            } else {
                server.acceptLoop.handshakeFailed(connection, "\(error)", for: server)
            }
            return
        }
        if !transportOutputSent(connection, for: server) { return }
        if !connection.isEstablished {
            if connection.transport.isEstablished {
                server.acceptLoop.establish(connection, for: server)
            } else {
                if result.ended { server.acceptLoop.handshakeFailed(connection, "closed before its handshake finished", for: server) }
                return
            }
        }
        if result.count > 0 {
            server.counters.bytesReceived &+= UInt64(result.count)
            let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<result.count])
            if !connection.awaitsFirstBytes {
                process(bytes, from: connection, for: server)
            } else if let sent = server.detection.received(bytes, on: connection, for: server) {
                frameFirstBytes(sent, from: connection, for: server)
            }
        }
        if result.ended && connection.awaitsFirstBytes && !connection.isClosed {
            // Its input ended before its bytes decided: chatd's protocol, so what it sent is a
            // line and a client that only half-closed (`nc -N ... </dev/null`) still gets its welcome.
            frameFirstBytes(server.detection.decideNative(connection, for: server), from: connection, for: server)
        }
        if result.ended && !connection.isClosed {
            // Half-close: answer what was already sent, then close (so `printf ... | nc -N` works).
            connection.stopReading(server.reactor.loop)
            connection.peerClosed = true
            if connection.heldInput.isEmpty { endOfInput(connection, for: server) }
            server.logger.debug("client \(connection.address) closed its side")
        }
    }

    /// After a read: what the transport answered on its own (a handshake flight) is written or
    /// backlogged; a failed write closes the client (false).
    private func transportOutputSent(_ connection: Connection, for server: ChatServer) -> Bool {
        if let failure = connection.writeFailure {
            server.close(connection, reason: "connection lost", log: failure.errno == EPIPE || failure.errno == ECONNRESET ? "connection reset" : "\(failure)")
            return false
        }
        if connection.pendingOutput > 0 && !connection.isWriting {
            connection.startWriting(server.reactor.loop)
            server.output.checkOutputLimits(connection, for: server)
        }
        return true
    }

    /// The peer sent its last byte and all of it has been framed: a final line without a
    /// newline still counts, then the client leaves once its answers are written.
    /// While a password command of the client's is unanswered this waits (`ReadPauses` calls
    /// it again once the answer is in), so a last `/login` is answered before the close.
    func endOfInput(_ connection: Connection, for server: ChatServer) {
        let id = connection.id
        let hub = server.hub
        if hub.isHoldingInput(id) { return }
        hub.now = server.reactor.now
        connection.framer.finish { hub.handle($0, from: id) }
        if hub.isHoldingInput(id) { return }  // that last line was a password command
        hub.dismiss(id, reason: "connection lost", cause: .closed)
    }

    /// What a connection sent before its protocol was decided, framed once it is.
    func frameFirstBytes(_ bytes: [UInt8], from connection: Connection, for server: ChatServer) {
        if bytes.isEmpty || connection.isClosed { return }
        bytes.withUnsafeBytes { process($0, from: connection, for: server) }
    }

    private func process(_ bytes: UnsafeRawBufferPointer, from connection: Connection, for server: ChatServer) {
        if let door = connection.web {
            // The web door: HTTP, then WebSocket frames on the wire; the lines they carry take
            // the ordinary path below.
            let lines = door.received(bytes, on: connection, for: server)
            if !lines.isEmpty && !connection.isClosed { lines.withUnsafeBytes { processLines($0, from: connection, for: server) } }
            door.finish(connection, for: server)
            return
        }
        processLines(bytes, from: connection, for: server)
    }

    /// Line bytes from a client: framed for the hub as far as flood control allows, the rest held.
    private func processLines(_ bytes: UnsafeRawBufferPointer, from connection: Connection, for server: ChatServer) {
        let now = server.reactor.now
        server.hub.now = now
        if server.config.idleTimeout > 0 { server.timeouts.idle.touch(connection.id, at: now) }
        let consumed = frame(bytes, from: connection, for: server)
        if consumed < bytes.count {
            connection.holdInput(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            hold(connection, for: server)
        }
        trackPartialLine(connection, for: server)
    }

    /// Frames `bytes` for the hub for as long as the client may send another line now; returns
    /// how many bytes were taken.
    private func frame(_ bytes: UnsafeRawBufferPointer, from connection: Connection, for server: ChatServer) -> Int {
        let id = connection.id
        let hub = server.hub
        let now = server.reactor.now
        guard Self.mayTakeLine(connection, now: now, for: server) else { return 0 }
        if connection.bucket == nil {
            return connection.framer.feedWhileAccepted(bytes) { event in
                hub.handle(event, from: id)
                return hub.outbox.renderedBytes < IOLimits.passRenderBudget && !hub.isHoldingInput(id) && !server.historyWriterIsBehind
            }
        }
        return connection.framer.feedWhileAccepted(bytes) { event in
            _ = connection.bucket?.take(now: now)
            hub.handle(event, from: id)
            return Self.mayTakeLine(connection, now: now, for: server)
        }
    }

    /// Whether one more line from `connection` may be handled in this pass. Not while the hub
    /// holds its input (a password command of its is unanswered): the rest stays held as bytes.
    /// Static, so the per-line closure in `frame` captures the server alone, as before the split
    /// (capturing `self` too cost a retain per read).
    private static func mayTakeLine(_ connection: Connection, now: Double, for server: ChatServer) -> Bool {
        let hub = server.hub
        if hub.outbox.renderedBytes >= IOLimits.passRenderBudget || hub.isHoldingInput(connection.id) || server.historyWriterIsBehind { return false }
        return connection.bucket?.hasToken(now: now) ?? true
    }

    /// Stops reading a client whose input is held, until the held-input timer feeds it again.
    private func hold(_ connection: Connection, for server: ChatServer) {
        let now = server.reactor.now
        connection.stopReading(server.reactor.loop)
        if connection.throttledSince == nil && !(connection.bucket?.hasToken(now: now) ?? true) {
            connection.throttledSince = now
            server.logger.debug("client \(connection.address) is flooding; reads paused")
        }
        if !heldClients.contains(connection.id) { heldClients.append(connection.id) }
        if !heldInputTimer.isActive { heldInputTimer.start() }
    }

    /// The held-input timer: frames held input again as tokens return; resumes reading once a
    /// client's held input is gone; disconnects one held back by flood control for too long.
    func frameHeldInput(for server: ChatServer) {
        let now = server.reactor.now
        let hub = server.hub
        hub.now = now
        var stillHeld: [ClientID] = []
        for id in heldClients {
            guard let connection = server.connection(id), !connection.isClosed else { continue }
            let consumed = connection.heldInput.withUnsafeBytes { frame($0, from: connection, for: server) }
            connection.consumeHeldInput(consumed)
            if connection.heldInput.isEmpty {
                connection.throttledSince = nil
                if connection.peerClosed {
                    endOfInput(connection, for: server)
                } else if !connection.closeAfterFlush && connection.penaltyUntil == nil {
                    connection.startReading(server.reactor.loop)
                }
                trackPartialLine(connection, for: server)
                continue
            }
            let flooding = !(connection.bucket?.hasToken(now: now) ?? true)
            if flooding && connection.throttledSince == nil { connection.throttledSince = now }
            if flooding, let since = connection.throttledSince, now - since >= server.config.floodSeconds {
                connection.consumeHeldInput(connection.heldInput.count)
                hub.expel(id, .flood, "more than \(server.config.maxLineRate) lines per second for \(Int(server.config.floodSeconds))s; closing the connection", reason: "flooding")
                server.logger.notice("client \(connection.address) disconnected for flooding", metadata: ["client": "\(connection.address)", "reason": "flood"])
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
    func frameAllHeldInput(for server: ChatServer) {
        let hub = server.hub
        hub.now = server.reactor.now
        for id in heldClients {
            if hub.outbox.renderedBytes >= IOLimits.passRenderBudget { server.output.flushAll(for: server) }
            guard let connection = server.connection(id), !connection.isClosed else { continue }
            connection.heldInput.withUnsafeBytes { bytes in connection.framer.feed(bytes) { hub.handle($0, from: id) } }
            connection.consumeHeldInput(connection.heldInput.count)
        }
        heldClients.removeAll()
    }

    /// Keeps the partial-line timeout list and the memory total right after framing.
    private func trackPartialLine(_ connection: Connection, for server: ChatServer) {
        connection.countPartialLine()
        guard server.config.partialLineTimeout > 0 else { return }
        if connection.framer.hasPartialLine {
            if !server.timeouts.partialLine.contains(connection.id) { server.timeouts.partialLine.touch(connection.id, at: server.reactor.now) }
        } else {
            server.timeouts.partialLine.remove(connection.id)
        }
    }

    /// Closes clients whose idle or partial-line time ran out; called once a second.
    func enforceTimeouts(for server: ChatServer) {
        let config = server.config, now = server.reactor.now
        if config.idleTimeout > 0 {
            expel(ClientTimeouts.expired(&server.timeouts.idle, after: config.idleTimeout, now: now),
                  .idle, "nothing received for \(Int(config.idleTimeout))s", reason: "idle timeout", for: server)
        }
        for id in ClientTimeouts.expired(&server.timeouts.webRequest, after: WebDoor.requestSeconds, now: now) {
            guard let connection = server.connection(id), !connection.isClosed else { continue }
            connection.web?.requestTimedOut(connection, for: server)
        }
        if config.partialLineTimeout > 0 {
            expel(ClientTimeouts.expired(&server.timeouts.partialLine, after: config.partialLineTimeout, now: now),
                  .lineTimeout, "an unfinished line was held for \(Int(config.partialLineTimeout))s", reason: "line timeout", for: server)
        }
    }

    /// Expels the clients whose timeout ran out.
    private func expel(_ expired: [ClientID], _ code: ErrorCode, _ text: String, reason: String, for server: ChatServer) {
        for id in expired {
            guard let connection = server.connection(id), !connection.isClosed else { continue }
            if connection.awaitsFirstBytes {  // not in the hub yet: nobody to tell
                server.close(connection, reason: reason, log: reason)
                continue
            }
            server.hub.expel(id, code, "\(text); closing the connection", reason: reason)
            connection.stopReading(server.reactor.loop)
        }
    }
}
