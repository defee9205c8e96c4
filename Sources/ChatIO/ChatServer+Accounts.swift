import ChatCore

/// Accounts on the server: the hashing thread and its inbox, the server password, the pauses
/// after a wrong one, and the figures `/stats` shows.
extension ChatServer {
    /// Starts the hashing thread and sets the server password (nil: none). Before the loop runs.
    public func enableAccounts(serverPassword: [UInt8]?) throws {
        let hub = self.hub
        let inbox = AsyncInbox<AuthResult>(reactor: reactor) { results in
            for result in results { hub.authFinished(result) }
        }
        inbox.start()
        authInbox = inbox
        hasher = try PasswordHasher(metrics: workerMetrics) { inbox.post($0) }
        hub.decoyHash = PasswordHasher.decoyHash()
        if let serverPassword {
            let password = ServerPassword(serverPassword)
            hub.serverPassword = { password.matches($0) }
        }
    }

    /// From `flushAll`: password jobs to the hashing thread, penalties applied.
    func handOverAuthWork() {
        if !hub.pendingAuthJobs.isEmpty {
            counters.passwordJobsQueued &+= UInt64(hub.pendingAuthJobs.count)
            if let hasher {
                hasher.submit(hub.pendingAuthJobs)
            } else {
                for job in hub.pendingAuthJobs { hub.authFinished(AuthResult(job: job, outcome: .failed)) }
            }
            hub.pendingAuthJobs.removeAll()
        }
        guard !hub.pendingPenalties.isEmpty else { return }
        let now = reactor.now
        for (id, seconds) in hub.pendingPenalties {
            guard let connection = connection(id), !connection.isClosed else { continue }
            connection.stopReading(reactor.loop)
            if connection.penaltyUntil == nil { penalisedClients.append(id) }
            connection.penaltyUntil = now + seconds
        }
        hub.pendingPenalties.removeAll()
    }

    /// Resumes reading clients whose pause is over (once a second, from housekeeping).
    func endPenalties() {
        guard !penalisedClients.isEmpty else { return }
        let now = reactor.now
        penalisedClients.removeAll { id in
            guard let connection = connection(id), !connection.isClosed, let until = connection.penaltyUntil else { return true }
            guard until <= now else { return false }
            connection.penaltyUntil = nil
            if connection.heldInput.isEmpty && !connection.closeAfterFlush && !connection.peerClosed {
                connection.startReading(reactor.loop)
            }
            return true
        }
    }

    /// Refreshes `/stats` figures (once a second, from housekeeping).
    func refreshStats() {
        var queued = 0
        for connection in connections { queued += connection?.pendingOutput ?? 0 }
        hub.stats.bytesQueued = queued
        hub.stats.uptimeSeconds = reactor.now - startTime
        hub.stats.messagesPerSecond = Double(hub.messagesRelayed &- lastRelayed)
        lastRelayed = hub.messagesRelayed
    }

    /// At exit: finish queued hashes and stop the thread.
    public func closeAccounts() {
        hasher?.close()
        hasher = nil
        authInbox?.stop()
        authInbox = nil
    }
}
