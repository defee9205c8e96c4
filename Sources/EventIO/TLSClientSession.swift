import COpenSSL
import Glibc

/// What a TLS client trusts: the system's certificate store (the default), one CA file (a
/// private CA, replacing the system store), or nothing at all (`--insecure`, load tests).
public enum TLSVerification: Sendable, Equatable {
    case systemStore
    case authority(path: String)
    case none
}

/// Client-side TLS settings shared by every session of one process (`chatd client --tls`,
/// `chatd-bench --tls`): TLS 1.2 or 1.3, the trust chosen, no session cache (every connection
/// makes a full handshake, which is what the churn benchmark measures), and read-ahead (a
/// socket read takes every record waiting, not one header and then one body).
public final class TLSClientContext {
    public let context: OpaquePointer
    public let verification: TLSVerification

    public init(verification: TLSVerification) throws {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSError.fromQueue("SSL_CTX_new") }
        self.context = context
        self.verification = verification
        do {
            guard copenssl_ctx_set_min_proto_version(context, TLS1_2_VERSION) == 1 else { throw TLSError.fromQueue("TLS minimum version") }
            SSL_CTX_set_options(context, COPENSSL_OP_NO_RENEGOTIATION | COPENSSL_OP_NO_COMPRESSION | COPENSSL_OP_IGNORE_UNEXPECTED_EOF)
            _ = copenssl_ctx_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
            _ = copenssl_ctx_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
            // Read whole socket buffers, not a record header then its body: half the reads.
            _ = copenssl_ctx_set_read_ahead(context, 1)
            switch verification {
            case .systemStore:
                guard SSL_CTX_set_default_verify_paths(context) == 1 else { throw TLSError.fromQueue("the system certificate store") }
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            case .authority(let path):
                guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else { throw TLSError.fromQueue("CA file \(path)") }
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            case .none:
                SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            }
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    deinit { SSL_CTX_free(context) }
}

/// One client TLS session on a connected, non-blocking socket (OpenSSL's socket BIO: the
/// client has one connection, so the server's shared-buffer machinery would buy nothing).
/// Every call returns instead of blocking; after `.wouldBlock`, `wants` says which readiness
/// to wait for — including a write that needs a read, or a read that needs a write.
public final class TLSClientSession {
    private let ssl: OpaquePointer
    /// Keeps the context alive as long as the session.
    private let context: TLSClientContext
    /// The event the last `.wouldBlock` waits for.
    public private(set) var wants: IOEvents = .read

    /// `host` is checked against the certificate (a DNS name, or an IP address against its IP
    /// SANs) unless verification is off; a DNS name is also sent as SNI.
    public init(context: TLSClientContext, fd: Int32, host: String) throws {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else { throw TLSError.fromQueue("SSL_new") }
        self.ssl = ssl
        self.context = context
        guard SSL_set_fd(ssl, fd) == 1 else { throw TLSError.fromQueue("SSL_set_fd") }
        if !Self.isAddressLiteral(host) { _ = copenssl_set_tlsext_host_name(ssl, host) }
        if context.verification != .none {
            guard SSL_set1_host(ssl, host) == 1 else { throw TLSError.fromQueue("TLS host name \(host)") }
        }
        SSL_set_connect_state(ssl)
    }

    deinit { SSL_free(ssl) }

    public var isEstablished: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Moves the handshake on; true once it is done. A refused certificate throws with the
    /// verifier's reason ("certificate verify failed: Hostname mismatch").
    public func continueHandshake() throws -> Bool {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return true }
        try settle(result, "TLS handshake")
        return false
    }

    /// Runs the whole handshake now, waiting on the socket with poll(2) for at most `timeout`
    /// seconds: for a client that has nothing else to do until it is done.
    public func handshake(fd: Int32, timeout: Double) throws {
        let deadline = Self.monotonicSeconds() + timeout
        while try !continueHandshake() {
            let left = deadline - Self.monotonicSeconds()
            if left <= 0 { throw TLSError("TLS handshake: no answer within \(Int(timeout))s") }
            var poller = pollfd(fd: fd, events: Int16(wants == .write ? POLLOUT : POLLIN), revents: 0)
            _ = poll(&poller, 1, Int32(min(left, 1) * 1000) + 1)
        }
    }

    /// One `SSL_read`: application bytes, `.wouldBlock` (see `wants`), or `.endOfFile` when the
    /// server closed. More may be buffered inside OpenSSL: call again until `.wouldBlock`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> IOResult {
        var got = 0
        ERR_clear_error()
        let result = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &got)
        if result == 1 { return .done(got) }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_ZERO_RETURN { return .endOfFile }
        if error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 { return .endOfFile }  // a FIN without close_notify
        try settle(result, "TLS read")
        return .wouldBlock
    }

    /// One `SSL_write` of up to one record (partial writes are on): how many of `bytes` were
    /// taken, or `.wouldBlock`. After `.wouldBlock` the same bytes must be offered again (the
    /// buffer may move: ACCEPT_MOVING_WRITE_BUFFER).
    public func write(_ bytes: UnsafeRawBufferPointer) throws -> IOResult {
        guard !bytes.isEmpty else { return .done(0) }
        var written = 0
        ERR_clear_error()
        let result = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &written)
        if result == 1 { return .done(written) }
        try settle(result, "TLS write")
        return .wouldBlock
    }

    /// Sends close_notify if the socket takes it now; the server's answer is not awaited.
    public func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// "TLSv1.3 TLS_AES_128_GCM_SHA256".
    public var summary: String {
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? "TLS"
        let cipher = SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? "unknown cipher"
        return "\(version) \(cipher)"
    }

    /// Records what a would-block result waits for, or throws the failure in OpenSSL's words.
    private func settle(_ result: Int32, _ context: String) throws {
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ: wants = .read
        case SSL_ERROR_WANT_WRITE: wants = .write
        default:
            let verdict = SSL_get_verify_result(ssl)
            if verdict != Int(X509_V_OK) {
                _ = TLSError.drainQueue()
                let reason = X509_verify_cert_error_string(verdict).map { String(cString: $0) } ?? "error \(verdict)"
                throw TLSError("\(context) failed: certificate verify failed: \(reason)")
            }
            if error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 {
                throw TLSError("\(context) failed: the server closed the connection")
            }
            throw TLSError.fromQueue("\(context) failed", fallback: TLSTransport.describe(error))
        }
    }

    /// An IPv4 or IPv6 literal (no SNI for those: RFC 6066 §3).
    private static func isAddressLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
