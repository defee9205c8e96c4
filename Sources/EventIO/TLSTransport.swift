import COpenSSL
import Glibc

/// TLS under the framing, one per TLS client: an OpenSSL session driven by the loop's own
/// watchers and the shared buffers of its `TLSEndpoint`.
///
/// - Reading: one `read(2)` of ciphertext into the endpoint's buffer, then the handshake (until
///   it is done) and `SSL_read` until OpenSSL wants more (`SSL_ERROR_WANT_READ` is "wait for
///   the read watcher"). At most `buffer.count - recordPlaintextBytes` ciphertext is read at a
///   time, so everything it holds decrypts into `buffer` in one go and no plaintext is ever
///   left inside OpenSSL where a paused reader would not come back for it; only an unfinished
///   record waits there, for bytes still in flight.
/// - Writing: the ranges of one flush are cut into records of up to 16 KiB — one range that
///   big, or the last range, is encrypted in place; smaller ones are gathered first — so a
///   flush of many small messages is one record, never one per message. The BIO takes every
///   byte of ciphertext: `SSL_ERROR_WANT_WRITE` cannot occur, and what the socket refuses sits
///   in the connection's backlog (the write watcher drains it, the output limits bound it).
/// - OpenSSL's error queue: `SSL_get_error` needs it empty before each call. Every failure
///   path here drains it (`TLSError.fromQueue`) and `read` clears it once on entry, so the hot
///   path — one `SSL_write` per record — never pays for clearing it again.
/// - A write that needs a read: only a handshake or a renegotiation can make `SSL_write` wait
///   for the peer. The hub learns of a client only once its handshake is done, and
///   renegotiation is off, so an application write that still asks for a read is the peer
///   breaking the protocol, and closes the client.
public final class TLSTransport: Transport {
    private let fd: Int32
    /// The `SSL *`, owned; nil once closed.
    private var ssl: OpaquePointer?
    /// Strong: the endpoint's BIO method and buffers must outlive this session.
    private let endpoint: TLSEndpoint
    public private(set) var isEstablished = false

    public init(fd: Int32, ssl: OpaquePointer, endpoint: TLSEndpoint) {
        self.fd = fd
        self.ssl = ssl
        self.endpoint = endpoint
    }

    deinit { if let ssl { SSL_free(ssl) } }

    public var summary: String {
        guard isEstablished, let ssl else { return "" }
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? "TLS"
        let cipher = SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? "unknown cipher"
        return " over \(version) (\(cipher))"
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, sink: WireSink) throws -> TransportRead {
        guard let ssl, let base = buffer.baseAddress else { return TransportRead(count: 0, ended: true) }
        let room = min(endpoint.cipherIn.count, buffer.count - TLSLimits.recordPlaintextBytes)
        precondition(room > 0, "the read buffer must hold more than one TLS record")
        switch try Socket.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: endpoint.cipherIn[0..<room])) {
        case .wouldBlock: return .nothing
        case .endOfFile: return TransportRead(count: 0, ended: true)  // a FIN without close_notify: an end all the same
        case .done(let count): endpoint.setWindow(count)
        }
        endpoint.begin(sink)
        defer { endpoint.end() }
        ERR_clear_error()
        if !isEstablished {
            let result = SSL_do_handshake(ssl)
            if result != 1 {
                let error = SSL_get_error(ssl, result)
                if error == SSL_ERROR_WANT_READ { return .nothing }  // the window is used up; wait for more
                throw TLSError.fromQueue("TLS handshake failed", fallback: Self.describe(error))
            }
            isEstablished = true
            endpoint.handshakesCompleted += 1
        }
        // OpenSSL (without read-ahead) takes one record at a time from the window, so once the
        // window is used up and no decrypted bytes wait, there is nothing more to ask it for.
        var filled = 0
        while filled < buffer.count && (endpoint.hasWindowLeft || SSL_pending(ssl) > 0) {
            var got = 0
            if SSL_read_ex(ssl, base + filled, buffer.count - filled, &got) == 1 {
                filled += got
                continue
            }
            let error = SSL_get_error(ssl, 0)
            switch error {
            case SSL_ERROR_WANT_READ: return TransportRead(count: filled, ended: false)
            case SSL_ERROR_ZERO_RETURN: return TransportRead(count: filled, ended: true)  // close_notify
            default: throw TLSError.fromQueue("TLS read", fallback: Self.describe(error))
            }
        }
        return TransportRead(count: filled, ended: false)
    }

    public func write(_ vectors: UnsafeMutablePointer<iovec>, count: Int, sink: WireSink) throws {
        guard let ssl else { return }
        var remaining = 0
        for index in 0..<count { remaining += vectors[index].iov_len }
        endpoint.begin(sink)
        defer { endpoint.end() }
        var index = 0
        var offset = 0  // into vectors[index]
        while remaining > 0 {
            let available = vectors[index].iov_len - offset
            if available == 0 {
                index += 1
                offset = 0
                continue
            }
            let record: UnsafeRawPointer
            let length: Int
            if available >= TLSLimits.recordPlaintextBytes || available == remaining {
                // A full record, or the last piece: encrypt it where it lies.
                guard let start = vectors[index].iov_base else { return }
                record = UnsafeRawPointer(start + offset)
                length = min(available, TLSLimits.recordPlaintextBytes)
                offset += length
            } else {
                length = gather(vectors, count: count, index: &index, offset: &offset, upTo: min(remaining, TLSLimits.recordPlaintextBytes))
                record = UnsafeRawPointer(endpoint.recordScratch)
            }
            remaining -= length
            endpoint.sendsDirectly = remaining == 0
            var written = 0
            guard SSL_write_ex(ssl, record, length, &written) == 1, written == length else {
                throw TLSError.fromQueue("TLS write", fallback: Self.describe(SSL_get_error(ssl, 0)))
            }
        }
    }

    /// Copies `total` bytes from the vectors, starting at `index`/`offset`, into the record
    /// scratch buffer and advances past them.
    private func gather(_ vectors: UnsafeMutablePointer<iovec>, count: Int, index: inout Int, offset: inout Int, upTo total: Int) -> Int {
        var filled = 0
        while filled < total && index < count {
            let available = vectors[index].iov_len - offset
            let take = min(available, total - filled)
            if take > 0, let start = vectors[index].iov_base {
                memcpy(endpoint.recordScratch + filled, start + offset, take)
                filled += take
                offset += take
            }
            if offset == vectors[index].iov_len {
                index += 1
                offset = 0
            }
        }
        return filled
    }

    public func close(sink: WireSink) {
        guard let ssl else { return }
        if isEstablished && sink.isWritable {
            endpoint.begin(sink)
            ERR_clear_error()
            _ = SSL_shutdown(ssl)  // queues close_notify; the peer's answer is not awaited
            endpoint.end()
        }
        ERR_clear_error()
        SSL_free(ssl)
        self.ssl = nil
    }

    /// What an `SSL_get_error` code means when OpenSSL's queue gives no reason.
    public static func describe(_ error: Int32) -> String {
        switch error {
        case SSL_ERROR_WANT_READ: return "the peer must send more first"
        case SSL_ERROR_WANT_WRITE: return "the socket must take more first"
        case SSL_ERROR_ZERO_RETURN: return "the peer closed the session"
        case SSL_ERROR_SYSCALL: return "the connection ended mid-record"
        default: return "SSL error \(error)"
        }
    }
}
