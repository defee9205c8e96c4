import CLibEv
import ChatCore
import EventIO
import Glibc

/// Clients' output (redis's `writeToClient` side of networking.c): once per loop iteration,
/// from the prepare watcher, every client the hub queued output for is handed to its transport
/// with as few calls as its ranges need (one, unless it has over IOV_MAX of them); plain TCP
/// makes that one `sendmsg`. Whatever the socket does not take is copied, at its wire size, into
/// the client's private backlog and its write watcher is armed until the backlog drains.
/// Output limits are checked here, where the bytes are counted, and so is the global
/// client-memory budget.
///
/// The server holds one and calls it directly (no protocol, no closure per client): the flush
/// is the fan-out hot path. Failures found during it are collected in `deferredCloses` and
/// closed after the traversal (redis's `freeClientAsync`).
final class ClientOutput {
    /// Scratch iovecs for `sendmsg`, allocated once, freed in deinit.
    private let iovecs: UnsafeMutablePointer<iovec>
    /// Clients to close once the current traversal ends, with the reason.
    private var deferredCloses: [(ClientID, String)] = []

    init() {
        iovecs = .allocate(capacity: IOLimits.iovecsPerWrite)
    }

    deinit { iovecs.deallocate() }

    /// The `ev_prepare` callback: flush, reset the outbox, then close what the flush or the hub
    /// asked to close. Closing tells rooms, which queues more output, so repeat until quiet.
    func flushAll(for server: ChatServer) {
        let hub = server.hub
        server.applyHubEffects()
        while !hub.outbox.dirty.isEmpty || !hub.outbox.closeRequests.isEmpty || !deferredCloses.isEmpty || !hub.outbox.overLimit.isEmpty {
            cutClientsOverLimit(for: server)
            let dirty = hub.outbox.dirty
            if !dirty.isEmpty {
                // Both arenas' addresses live through the traversal: nothing is published while flushing.
                hub.outbox.arena.withUnsafeBytes { shared in
                    hub.outbox.ownArena.withUnsafeBytes { own in
                        for id in dirty { flush(id, shared: shared.baseAddress, own: own.baseAddress, hub: hub, for: server) }
                    }
                }
            }
            let closeRequests = hub.outbox.closeRequests
            hub.outbox.reset()
            if server.clientMemoryBytes > server.config.maxClientMemory { shedClientMemory(for: server) }
            for id in closeRequests {
                if let connection = server.connection(id) { server.closeAfterFlush(connection, detail: connection.peerClosed ? "closed by client" : "quit") }
            }
            let closes = deferredCloses
            deferredCloses.removeAll()
            for (id, detail) in closes {
                if let connection = server.connection(id) {
                    server.close(connection, reason: "connection lost", log: detail)
                }
            }
        }
        server.table.releaseQuarantine()
        if server.isShuttingDown && server.liveConnections == 0 { server.reactor.stop() }
    }

    /// Hands everything queued for one client this iteration to its transport, in batches of
    /// up to `iovecsPerWrite` ranges: plain TCP writes them with one `sendmsg` each, TLS
    /// encrypts them into as few records as fit. What the socket refuses is in the backlog
    /// afterwards (see `WireSink`); the outbox is credited with what the client was actually
    /// sent, measured against the backlog, so its allowance stays its hard limit minus its
    /// backlog whatever the transport made of the bytes.
    /// `hub` is the server's, passed in: one reference for the whole traversal.
    private func flush(_ id: ClientID, shared: UnsafeRawPointer?, own: UnsafeRawPointer?, hub: Hub, for server: ChatServer) {
        guard let connection = server.connection(id), !connection.isClosed else { return }
        let backlogBefore = connection.pendingOutput
        let transport = connection.transport
        let iovecs = self.iovecs
        var batch = 0
        var handed = 0
        var failure: Error?
        var position = Outbox.firstRange
        while failure == nil, let range = hub.outbox.range(of: id, at: position) {
            position = range.next
            guard let start = Self.address(of: range.offset, shared: shared, own: own) else {
                preconditionFailure("a queued range points into an empty arena")  // a bug of ours: every range was published
            }
            iovecs[batch] = iovec(iov_base: UnsafeMutableRawPointer(mutating: start), iov_len: range.length)
            batch += 1
            handed += range.length
            if batch == IOLimits.iovecsPerWrite {
                do { try transport.write(iovecs, count: batch, sink: connection) } catch { failure = error }
                batch = 0
            }
        }
        if failure == nil && batch > 0 {
            do { try transport.write(iovecs, count: batch, sink: connection) } catch { failure = error }
        }
        hub.outbox.credit(id, handed - (connection.pendingOutput - backlogBefore))
        if let failure = failure ?? connection.writeFailure {
            connection.dropBacklog()
            let reset = (failure as? SystemError).map { $0.errno == EPIPE || $0.errno == ECONNRESET } ?? false
            deferredCloses.append((id, reset ? "connection reset" : "\(failure)"))
            return
        }
        if connection.pendingOutput > 0 {
            connection.startWriting(server.reactor.loop)
            checkOutputLimits(connection, for: server)
        }
    }

    /// Where a queued range starts, given both arenas' base addresses (`Outbox.place(of:)`).
    @inline(__always)
    private static func address(of offset: Int, shared: UnsafeRawPointer?, own: UnsafeRawPointer?) -> UnsafeRawPointer? {
        let (inOwnArena, at) = Outbox.place(of: offset)
        return (inOwnArena ? own : shared).map { $0 + at }
    }

    /// The write watcher's callback: drain the backlog; stop watching once it is empty.
    func writeReady(_ connection: Connection, for server: ChatServer) {
        if connection.isClosed { return }
        let result: IOResult
        do {
            result = try connection.backlog.withUnsafeBytes { bytes in try Socket.write(connection.fd, bytes) }
        } catch {
            server.close(connection, reason: "connection lost", log: "\(error)")
            return
        }
        if case .done(let count) = result {
            server.counters.bytesSent &+= UInt64(count)
            connection.consumeBacklog(count)
            server.hub.outbox.credit(connection.id, count)
        }
        if connection.pendingOutput == 0 {
            connection.stopWriting(server.reactor.loop)
            connection.overSoftLimitSince = nil
            if connection.closeAfterFlush { server.close(connection, reason: "quit", log: connection.peerClosed ? "closed by client" : "quit") }
        }
    }

    /// Redis's client-output-buffer-limit: over the hard limit closes at once; over the soft
    /// limit continuously for `outputSoftSeconds` closes too (checked here and by housekeeping).
    /// Closing is deferred: this runs while the outbox is being traversed.
    func checkOutputLimits(_ connection: Connection, for server: ChatServer) {
        let pending = connection.pendingOutput
        if pending > server.config.outputHardLimit {
            deferOutputClose(connection, "output backlog \(pending) bytes is over the hard limit \(server.config.outputHardLimit)", for: server)
            return
        }
        if pending > server.config.outputSoftLimit {
            let now = server.reactor.now
            if let since = connection.overSoftLimitSince {
                if now - since >= server.config.outputSoftSeconds {
                    deferOutputClose(connection, "output backlog over the soft limit \(server.config.outputSoftLimit) for \(Int(now - since))s", for: server)
                }
            } else {
                connection.overSoftLimitSince = now
            }
        } else {
            connection.overSoftLimitSince = nil
        }
    }

    private func deferOutputClose(_ connection: Connection, _ detail: String, for server: ChatServer) {
        server.logger.notice("client \(connection.address) is a slow consumer: \(detail); disconnecting",
                             metadata: ["client": "\(connection.address)", "reason": "output_limit", "backlog_bytes": .stringConvertible(connection.pendingOutput)])
        connection.departure = .outputLimit
        // Its backlog is what it failed to read: drop it rather than write more to a full socket.
        connection.dropBacklog()
        connection.stopWriting(server.reactor.loop)
        deferredCloses.append((connection.id, "slow consumer: \(detail)"))
    }

    /// Clients whose queued output this pass would have passed the hard limit (the outbox
    /// refused the delivery, or a big reply was charged against them): cut before the flush,
    /// with nothing more queued or written for them.
    private func cutClientsOverLimit(for server: ChatServer) {
        let hub = server.hub
        for id in hub.outbox.overLimit {
            guard let connection = server.connection(id), !connection.isClosed else { continue }
            hub.outbox.discard(id)
            deferOutputClose(connection, "output backlog \(connection.pendingOutput) bytes plus this pass's output would pass the hard limit \(server.config.outputHardLimit)", for: server)
        }
    }

    /// Over the global client-memory budget: cut the clients pinning the most until the total
    /// is back under `clientMemoryShedTarget` of it. Rare (O(clients log clients) when it
    /// happens), and the daemon keeps serving everyone else.
    private func shedClientMemory(for server: ChatServer) {
        let budget = server.config.maxClientMemory
        let target = Int(Double(budget) * IOLimits.clientMemoryShedTarget)
        let heaviest = server.connections.compactMap { $0 }.filter { !$0.isClosed && $0.memoryInUse > 0 }
            .sorted { $0.memoryInUse > $1.memoryInUse }
        var cut = 0
        for connection in heaviest where server.clientMemoryBytes > target {
            let using = connection.memoryInUse
            server.logger.notice("client \(connection.address) uses \(using) bytes while all clients use \(server.clientMemoryBytes), over the budget \(budget); disconnecting it")
            server.hub.expel(connection.id, .outputLimit, "the server is short of memory and this connection held the most (\(using) bytes); closing it", reason: "client memory budget")
            connection.consumeHeldInput(connection.heldInput.count)
            connection.dropBacklog()
            connection.stopWriting(server.reactor.loop)
            deferredCloses.append((connection.id, "client memory budget: held \(using) bytes"))
            cut += 1
        }
        if cut > 0 { server.logger.warning("client memory over its budget of \(budget) bytes: \(cut) clients cut, \(server.clientMemoryBytes) bytes now in use") }
    }

    /// Clients that quit or half-closed and still have output after `closeLingerSeconds`: the
    /// peer is not reading, so the connection ends here rather than never (from housekeeping).
    func closeLingeringClients(for server: ChatServer) {
        for id in ClientTimeouts.expired(&server.timeouts.lingering, after: IOLimits.closeLingerSeconds, now: server.reactor.now) {
            guard let connection = server.connection(id), !connection.isClosed else { continue }
            connection.dropBacklog()
            server.close(connection, reason: "quit", log: "closed after \(IOLimits.closeLingerSeconds)s with output unread")
        }
    }
}
