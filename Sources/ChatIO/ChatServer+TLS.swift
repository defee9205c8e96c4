import ChatCore
import EventIO

/// The TLS port: the counters and certificate rotation on SIGHUP (accepting under the bound on
/// handshakes in flight is AcceptLoop's). Everything after the accept goes through `Transport`, so
/// reading, framing, fan-out, limits and closing are the plaintext code paths.
extension ChatServer {
    /// The TLS port's address, when there is one.
    public var tlsBoundAddress: SocketAddress? { acceptLoop.tls?.address }

    /// The certificate new TLS handshakes get ("CN = …, expires …").
    public var tlsCertificateSummary: String? { acceptLoop.tls?.endpoint.context.certificateSummary }

    /// TLS handshakes completed and failed (including timeouts) since start; nil without TLS.
    public var tlsHandshakeCounts: (completed: Int, failed: Int)? {
        acceptLoop.tls.map { ($0.endpoint.handshakesCompleted, $0.endpoint.handshakeFailures) }
    }

    /// One more failed handshake; returns the count so far.
    func countHandshakeFailure() -> Int {
        guard let endpoint = acceptLoop.tls?.endpoint else { return 0 }
        endpoint.handshakeFailures += 1
        return endpoint.handshakeFailures
    }

    /// SIGHUP: loads the certificate and key again (certbot renews them in place). A pair that
    /// does not load or does not match is refused whole with one log line, and new handshakes
    /// keep getting the current one; sessions already open are never touched.
    func reloadTLS() {
        guard let tls = acceptLoop.tls else { return }
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
