import COpenSSL
import Glibc

/// One loaded certificate and key, ready to accept TLS handshakes: an `SSL_CTX` configured the
/// way the README promises. Built whole or not at all — a chain that does not parse, a key
/// that does not load or does not match throws, and the caller keeps whatever it had (so a
/// half-written renewal never takes the server down). Sessions hold their own reference to
/// the `SSL_CTX`, so a context replaced on SIGHUP lives on until its last session ends.
///
/// Settings: TLS 1.2 and 1.3 only; the server's cipher order (Mozilla's "intermediate" list,
/// AES-128-GCM first: as strong as needed, and the cheapest per byte with AES-NI); no
/// renegotiation; no compression; no session cache and no tickets (every connection makes a
/// full handshake, nothing per session is kept in the server); OpenSSL's buffers released
/// whenever a connection has nothing in flight, so an idle TLS client holds none.
public final class TLSContext {
    /// The `SSL_CTX *`, owned.
    public let context: OpaquePointer
    /// "CN = chat.example.org, expires 2027-03-01 12:00:00 UTC", for logs.
    public let certificateSummary: String

    /// TLS 1.2 cipher suites, in the server's order (TLS 1.3 suites are set separately).
    public static let tls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    /// TLS 1.3 cipher suites, in the server's order.
    public static let tls13Ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    public init(certificatePath: String, keyPath: String) throws {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError.fromQueue("SSL_CTX_new") }
        self.context = context
        do {
            try Self.configure(context)
            guard SSL_CTX_use_certificate_chain_file(context, certificatePath) == 1 else {
                throw TLSError.fromQueue("TLS certificate \(certificatePath)")
            }
            guard SSL_CTX_use_PrivateKey_file(context, keyPath, SSL_FILETYPE_PEM) == 1 else {
                throw TLSError.fromQueue("TLS key \(keyPath)")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw TLSError.fromQueue("TLS key \(keyPath) does not match the certificate \(certificatePath)")
            }
            certificateSummary = Self.summary(of: SSL_CTX_get0_certificate(context))
            ERR_clear_error()  // nothing from setting up may linger into a session's first call
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    deinit { SSL_CTX_free(context) }

    private static func configure(_ context: OpaquePointer) throws {
        guard copenssl_ctx_set_min_proto_version(context, TLS1_2_VERSION) == 1 else { throw TLSError.fromQueue("TLS minimum version") }
        SSL_CTX_set_options(context, COPENSSL_OP_NO_RENEGOTIATION | COPENSSL_OP_CIPHER_SERVER_PREFERENCE
                                | COPENSSL_OP_NO_COMPRESSION | COPENSSL_OP_NO_TICKET)
        guard SSL_CTX_set_cipher_list(context, tls12Ciphers) == 1,
              SSL_CTX_set_ciphersuites(context, tls13Ciphersuites) == 1 else { throw TLSError.fromQueue("TLS cipher list") }
        _ = SSL_CTX_set_num_tickets(context, 0)
        _ = copenssl_ctx_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        _ = copenssl_ctx_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
    }

    /// The leaf's subject and expiry, for the start-up and reload log lines.
    private static func summary(of certificate: OpaquePointer?) -> String {
        guard let certificate else { return "no certificate" }
        var subject = "unnamed"
        if let name = X509_get_subject_name(certificate), let text = X509_NAME_oneline(name, nil, 0) {
            subject = String(cString: text)
            CRYPTO_free(text, #fileID, #line)
        }
        var expiry = tm()
        guard let notAfter = X509_get0_notAfter(certificate), ASN1_TIME_to_tm(notAfter, &expiry) == 1 else { return subject }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let date = "\(Int(expiry.tm_year) + 1900)-\(two(expiry.tm_mon + 1))-\(two(expiry.tm_mday)) "
            + "\(two(expiry.tm_hour)):\(two(expiry.tm_min)):\(two(expiry.tm_sec)) UTC"
        return "\(subject), expires \(date)"
    }
}
