import ChatCore
import EventIO

/// The TLS port as the server's public interface shows it: its address, certificate and
/// handshake counts (accepting under the bound on handshakes in flight is `AcceptLoop`'s,
/// certificate rotation on SIGHUP `TLSListener`'s). Everything after the accept goes through
/// `Transport`, so reading, framing, fan-out, limits and closing are the plaintext code paths.
extension ChatServer {
    /// The TLS port's address, when there is one.
    public var tlsBoundAddress: SocketAddress? { acceptLoop.tls?.address }

    /// The certificate new TLS handshakes get ("CN = …, expires …").
    public var tlsCertificateSummary: String? { acceptLoop.tls?.endpoint.context.certificateSummary }

    /// TLS handshakes completed and failed (including timeouts) since start; nil without TLS.
    public var tlsHandshakeCounts: (completed: Int, failed: Int)? {
        acceptLoop.tls.map { ($0.endpoint.handshakesCompleted, $0.endpoint.handshakeFailures) }
    }
}
