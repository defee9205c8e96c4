import EventIO
import Logging

/// The TLS port: its listening socket and watcher, and the endpoint (certificate, shared
/// buffers, counters) every session accepted on it uses.
final class TLSListener {
    let fd: Int32
    let address: SocketAddress
    let endpoint: TLSEndpoint
    /// Set by the server once it exists (the callback reaches the server).
    var watcher: IOWatcher?
    /// When the in-flight bound was last logged (at most once per `acceptErrorLogInterval`).
    var lastBoundLog = -Double.infinity

    private init(fd: Int32, address: SocketAddress, endpoint: TLSEndpoint) {
        self.fd = fd
        self.address = address
        self.endpoint = endpoint
    }

    deinit {
        watcher = nil
        Socket.close(fd)
    }

    /// The TLS listener `config` asks for, with its certificate loaded; nil when no TLS port
    /// is set. A missing file, a bad pair or a port in use throws (a one-line start-up error).
    static func open(_ config: ServerConfig, readBytes: Int) throws -> TLSListener? {
        guard let port = config.tls.port else { return nil }
        if let missing = config.tls.missingFile { throw TLSError(missing) }
        guard let certificate = config.tls.certificatePath, let key = config.tls.keyPath else { return nil }
        let endpoint = try TLSEndpoint(context: try TLSContext(certificatePath: certificate, keyPath: key), readBytes: readBytes)
        let (fd, address) = try AcceptLoop.openListener(host: config.host, port: port, backlog: config.listenBacklog)
        return TLSListener(fd: fd, address: address, endpoint: endpoint)
    }

    /// SIGHUP: loads the certificate and key again (certbot renews them in place). A pair that
    /// does not load or does not match is refused whole with one log line, and new handshakes
    /// keep getting the current one; sessions already open are never touched.
    func reloadCertificate(_ settings: TLSSettings, logger: Logger) {
        let current = endpoint.context.certificateSummary
        guard let certificate = settings.certificatePath, let key = settings.keyPath else {
            logger.error("SIGHUP: \(settings.missingFile ?? "no TLS certificate or key"); keeping the current TLS certificate (\(current))")
            return
        }
        do {
            let context = try TLSContext(certificatePath: certificate, keyPath: key)
            endpoint.replaceContext(context)
            logger.notice("SIGHUP: TLS certificate loaded from \(certificate): \(context.certificateSummary)")
        } catch {
            logger.error("SIGHUP: \(error); keeping the current TLS certificate (\(current))")
        }
    }
}
