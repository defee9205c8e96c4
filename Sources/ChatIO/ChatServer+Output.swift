import CLibEv
import ChatCore
import Glibc

/// Writing: once per loop iteration every client the hub queued output for is written with as
/// few `writev` calls as its ranges need (one, unless it has over IOV_MAX of them). Whatever the
/// socket does not take is copied into the client's private backlog and its write watcher is
/// armed until the backlog drains. Output limits are checked here, where the bytes are counted.
extension ChatServer {
    /// The `ev_prepare` callback: flush, reset the outbox, then close what the flush or the hub
    /// asked to close. Closing tells rooms, which queues more output, so repeat until quiet.
    func flushAll() {
        handOverHistory()
        handOverAuthWork()
        while !hub.outbox.dirty.isEmpty || !hub.outbox.closeRequests.isEmpty || !deferredCloses.isEmpty {
            let dirty = hub.outbox.dirty
            if !dirty.isEmpty {
                hub.outbox.arena.withUnsafeBytes { arena in
                    guard let base = arena.baseAddress else { return }
                    for id in dirty { flush(id, arena: base) }
                }
            }
            let closeRequests = hub.outbox.closeRequests
            hub.outbox.reset()
            for id in closeRequests {
                if let connection = connection(id) { closeAfterFlush(connection, detail: connection.peerClosed ? "closed by client" : "quit") }
            }
            let closes = deferredCloses
            deferredCloses.removeAll()
            for (id, detail) in closes {
                if let connection = connection(id) {
                    close(connection, reason: "connection lost", log: detail)
                }
            }
        }
        freeSlots.append(contentsOf: quarantinedSlots)
        quarantinedSlots.removeAll(keepingCapacity: true)
        if isShuttingDown && liveConnections == 0 { reactor.stop() }
    }

    /// Writes (or backlogs) everything queued for one client this iteration.
    private func flush(_ id: ClientID, arena: UnsafeRawPointer) {
        guard let connection = connection(id), !connection.isClosed else { return }
        if connection.pendingOutput > 0 {
            // Already behind: keep order by appending after the backlog; the write watcher is armed.
            hub.outbox.forEachRange(of: id) { offset, length in
                connection.backlog.append(contentsOf: UnsafeRawBufferPointer(start: arena + offset, count: length))
            }
            checkOutputLimits(connection)
            return
        }
        var batch = 0
        var batchBytes = 0
        var blocked = false
        var failure: SystemError?
        let iovecs = self.iovecs
        hub.outbox.forEachRange(of: id) { offset, length in
            if blocked {
                connection.backlog.append(contentsOf: UnsafeRawBufferPointer(start: arena + offset, count: length))
                return
            }
            iovecs[batch] = iovec(iov_base: UnsafeMutableRawPointer(mutating: arena + offset), iov_len: length)
            batch += 1
            batchBytes += length
            if batch == IOLimits.iovecsPerWrite {
                blocked = !writeBatch(connection, count: batch, bytes: batchBytes, failure: &failure)
                batch = 0
                batchBytes = 0
            }
        }
        if !blocked && batch > 0 {
            blocked = !writeBatch(connection, count: batch, bytes: batchBytes, failure: &failure)
        }
        if let failure {
            connection.backlog = []
            connection.backlogStart = 0
            deferredCloses.append((id, failure.errno == EPIPE || failure.errno == ECONNRESET ? "connection reset" : "\(failure)"))
            return
        }
        if connection.pendingOutput > 0 {
            connection.startWriting(reactor.loop)
            checkOutputLimits(connection)
        }
    }

    /// Writes `iovecs[0..<count]`; copies whatever was not written into the backlog. Returns
    /// false when the socket is full (or failed), so the caller backlogs the rest.
    private func writeBatch(_ connection: Connection, count: Int, bytes: Int, failure: inout SystemError?) -> Bool {
        let result: IOResult
        do {
            result = try Socket.writev(connection.fd, iovecs, count: Int32(count))
        } catch let error as SystemError {
            failure = error
            return false
        } catch {
            return false
        }
        var written = 0
        if case .done(let count) = result { written = count }
        if written == bytes { return true }
        var skip = written
        for index in 0..<count {
            let vector = iovecs[index]
            if skip >= vector.iov_len {
                skip -= vector.iov_len
                continue
            }
            let start = UnsafeRawPointer(vector.iov_base!) + skip
            connection.backlog.append(contentsOf: UnsafeRawBufferPointer(start: start, count: vector.iov_len - skip))
            skip = 0
        }
        return false
    }

    /// The write watcher's callback: drain the backlog; stop watching once it is empty.
    func writeReady(_ connection: Connection) {
        if connection.isClosed { return }
        let result: IOResult
        do {
            result = try connection.backlog.withUnsafeBytes { bytes in
                try Socket.write(connection.fd, UnsafeRawBufferPointer(rebasing: bytes[connection.backlogStart...]))
            }
        } catch {
            close(connection, reason: "connection lost", log: "\(error)")
            return
        }
        if case .done(let count) = result { connection.consumeBacklog(count) }
        if connection.pendingOutput == 0 {
            connection.stopWriting(reactor.loop)
            connection.overSoftLimitSince = nil
            if connection.closeAfterFlush { close(connection, reason: "quit", log: connection.peerClosed ? "closed by client" : "quit") }
        }
    }

    /// Redis's client-output-buffer-limit: over the hard limit closes at once; over the soft
    /// limit continuously for `outputSoftSeconds` closes too (checked here and by housekeeping).
    /// Closing is deferred: this runs while the outbox is being traversed.
    func checkOutputLimits(_ connection: Connection) {
        let pending = connection.pendingOutput
        if pending > config.outputHardLimit {
            deferOutputClose(connection, "output backlog \(pending) bytes is over the hard limit \(config.outputHardLimit)")
            return
        }
        if pending > config.outputSoftLimit {
            let now = reactor.now
            if let since = connection.overSoftLimitSince {
                if now - since >= config.outputSoftSeconds {
                    deferOutputClose(connection, "output backlog over the soft limit \(config.outputSoftLimit) for \(Int(now - since))s")
                }
            } else {
                connection.overSoftLimitSince = now
            }
        } else {
            connection.overSoftLimitSince = nil
        }
    }

    private func deferOutputClose(_ connection: Connection, _ detail: String) {
        logger.notice("client \(connection.address) is a slow consumer: \(detail); disconnecting")
        // Its backlog is what it failed to read: drop it rather than write more to a full socket.
        connection.backlog = []
        connection.backlogStart = 0
        connection.stopWriting(reactor.loop)
        deferredCloses.append((connection.id, "slow consumer: \(detail)"))
    }

    /// Once a second: input timeouts, and slow consumers that stopped receiving new output (so `flush` never
    /// re-checks them) but still sit over the soft limit. The prepare watcher closes them.
    func housekeeping() {
        enforceTimeouts()
        endPenalties()
        refreshStats()
        for connection in connections where connection?.overSoftLimitSince != nil {
            if let connection { checkOutputLimits(connection) }
        }
    }
}
