import ChatCore
import EventIO

/// The TLS port: accepting under the bound on handshakes in flight, the counters, and
/// certificate rotation on SIGHUP. Everything after the accept goes through `Transport`, so
/// reading, framing, fan-out, limits and closing are the plaintext code paths.
extension ChatServer {
    /// The TLS port's address, when there is one.
    public var tlsBoundAddress: SocketAddress? { tlsListener?.address }

    /// The certificate new TLS handshakes get ("CN = …, expires …").
    public var tlsCertificateSummary: String? { tlsListener?.endpoint.context.certificateSummary }

    /// TLS handshakes completed and failed (including timeouts) since start; nil without TLS.
    public var tlsHandshakeCounts: (completed: Int, failed: Int)? {
        tlsListener.map { ($0.endpoint.handshakesCompleted, $0.endpoint.handshakeFailures) }
    }

    /// The TLS listener's callback: accepts while fewer than `maxHandshakes` are in flight.
    func tlsAcceptReady() {
        guard let tls = tlsListener else { return }
        accept(on: tls.fd, refusalsInPlaintext: false, while: { handshakingClients.count < config.tls.maxHandshakes }) { fd in
            try tls.endpoint.makeTransport(fd: fd)
        }
    }

    /// One more failed handshake; returns the count so far.
    func countHandshakeFailure() -> Int {
        guard let endpoint = tlsListener?.endpoint else { return 0 }
        endpoint.handshakeFailures += 1
        return endpoint.handshakeFailures
    }

    /// At the bound on handshakes in flight the TLS listener rests (new clients wait in the
    /// kernel's accept queue), with at most one log line per `acceptErrorLogInterval`.
    func pauseTLSAtBound() {
        guard let tls = tlsListener, let watcher = tls.watcher, watcher.isActive,
              handshakingClients.count >= config.tls.maxHandshakes else { return }
        watcher.stop()
        let now = reactor.now
        if now - tls.lastBoundLog >= IOLimits.acceptErrorLogInterval {
            tls.lastBoundLog = now
            logger.notice("\(handshakingClients.count) TLS handshakes in flight, the most allowed (--tls-max-handshakes): new TLS clients wait")
        }
    }

    /// Listens on the TLS port again once a handshake ends below the bound (unless accepts are
    /// resting after an error, or the server is shutting down).
    func resumeTLSBelowBound() {
        guard let watcher = tlsListener?.watcher, !watcher.isActive, !isShuttingDown, !acceptPauseTimer.isActive,
              handshakingClients.count < config.tls.maxHandshakes else { return }
        watcher.start()
    }

    /// SIGHUP: loads the certificate and key again (certbot renews them in place). A pair that
    /// does not load or does not match is refused whole with one log line, and new handshakes
    /// keep getting the current one; sessions already open are never touched.
    func reloadTLS() {
        guard let tls = tlsListener else { return }
        let current = tls.endpoint.context.certificateSummary
        guard let certificate = config.tls.certificatePath, let key = config.tls.keyPath else {
            logger.error("SIGHUP: \(config.tls.missingFile ?? "no TLS certificate or key"); keeping the current TLS certificate (\(current))")
            return
        }
        do {
            let context = try TLSContext(certificatePath: certificate, keyPath: key)
            tls.endpoint.replaceContext(context)
            logger.notice("SIGHUP: TLS certificate loaded from \(certificate): \(context.certificateSummary)")
        } catch {
            logger.error("SIGHUP: \(error); keeping the current TLS certificate (\(current))")
        }
    }
}
