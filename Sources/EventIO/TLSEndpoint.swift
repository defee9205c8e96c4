import COpenSSL
import Glibc

/// The server's TLS side that outlives any one certificate: the current `TLSContext`, the
/// OpenSSL BIO through which every TLS session reads and writes, the buffers they share, and
/// the handshake counters.
///
/// Every session's BIO reads ciphertext from `cipherIn` (filled by one `read(2)` per readable
/// event) and hands the ciphertext OpenSSL makes to the connection's `WireSink`, so no
/// ciphertext waits inside OpenSSL: what a full socket refuses goes to that client's backlog
/// at its wire size, under the same output limits and client-memory budget as plaintext.
/// The loop serves one connection at a time, so one set of buffers serves every session; the
/// "current operation" fields below are valid only inside one `TLSTransport` call.
public final class TLSEndpoint {
    /// The certificate new handshakes get; replaced whole on SIGHUP.
    public private(set) var context: TLSContext
    /// The BIO type of every session (created once, freed in deinit).
    private let bioMethod: OpaquePointer
    /// One socket read of ciphertext.
    let cipherIn: UnsafeMutableRawBufferPointer
    /// Ciphertext made during one operation, handed to the sink in one send at its end.
    private let cipherOut: UnsafeMutableRawPointer
    private var cipherOutCount = 0
    /// Plaintext from several arena ranges gathered into one record.
    let recordScratch: UnsafeMutableRawPointer

    /// The current operation: where ciphertext goes, and what is left of the read window.
    private var sink: WireSink?
    private var windowCount = 0
    private var windowOffset = 0
    /// Set for a write's last record: its ciphertext goes straight to the sink, uncopied,
    /// when nothing is gathered in `cipherOut` before it (the usual fan-out flush: one record).
    var sendsDirectly = false

    /// Handshakes finished and failed (including timeouts) since start.
    public var handshakesCompleted = 0
    public var handshakeFailures = 0

    public init(context: TLSContext, readBytes: Int) throws {
        self.context = context
        ERR_clear_error()
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "chatd connection") else {
            throw TLSError.fromQueue("BIO_meth_new")
        }
        bioMethod = method
        Self.install(method)
        cipherIn = .allocate(byteCount: readBytes, alignment: 16)
        cipherOut = .allocate(byteCount: TLSLimits.cipherOutBytes, alignment: 16)
        recordScratch = .allocate(byteCount: TLSLimits.recordPlaintextBytes, alignment: 16)
    }

    deinit {
        BIO_meth_free(bioMethod)
        cipherIn.deallocate()
        cipherOut.deallocate()
        recordScratch.deallocate()
    }

    /// Serves new handshakes with `replacement`; sessions already open keep theirs.
    public func replaceContext(_ replacement: TLSContext) { context = replacement }

    /// A server-side session on `fd` with the current certificate, not yet handshaken.
    public func makeTransport(fd: Int32) throws -> TLSTransport {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else { throw TLSError.fromQueue("SSL_new") }
        guard let bio = BIO_new(bioMethod) else {
            SSL_free(ssl)
            throw TLSError.fromQueue("BIO_new")
        }
        // Unretained: the endpoint outlives every session (each transport holds it strongly).
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        SSL_set_bio(ssl, bio, bio)
        SSL_set_accept_state(ssl)
        return TLSTransport(fd: fd, ssl: ssl, endpoint: self)
    }

    // MARK: One operation (called by TLSTransport)

    func begin(_ sink: WireSink) { self.sink = sink }

    /// Hands what the operation made to the sink and forgets the operation.
    func end() {
        flushOutput()
        sink = nil
        windowCount = 0
        windowOffset = 0
        sendsDirectly = false
    }

    /// The first `count` bytes of `cipherIn` are what OpenSSL may read now.
    func setWindow(_ count: Int) {
        windowCount = count
        windowOffset = 0
    }

    /// Whether OpenSSL has not yet taken all of the window.
    var hasWindowLeft: Bool { windowOffset < windowCount }

    // MARK: The BIO's side

    /// Ciphertext from OpenSSL (BIO write): always taken whole, so OpenSSL never sees
    /// WANT_WRITE and never holds ciphertext of its own.
    fileprivate func emit(_ bytes: UnsafeRawBufferPointer) {
        guard let sink, let base = bytes.baseAddress else { return }
        if cipherOutCount == 0 && sendsDirectly {
            sink.send(bytes)
            return
        }
        if cipherOutCount + bytes.count > TLSLimits.cipherOutBytes { flushOutput() }
        if bytes.count > TLSLimits.cipherOutBytes {
            sink.send(bytes)
            return
        }
        memcpy(cipherOut + cipherOutCount, base, bytes.count)
        cipherOutCount += bytes.count
    }

    /// Ciphertext for OpenSSL (BIO read): the rest of the window, or 0 when it is used up.
    fileprivate func take(into destination: UnsafeMutableRawPointer, _ length: Int) -> Int {
        let count = min(windowCount - windowOffset, length)
        guard count > 0, let base = cipherIn.baseAddress else { return 0 }
        memcpy(destination, base + windowOffset, count)
        windowOffset += count
        return count
    }

    fileprivate func flushOutput() {
        guard cipherOutCount > 0 else { return }
        sink?.send(UnsafeRawBufferPointer(start: cipherOut, count: cipherOutCount))
        cipherOutCount = 0
    }

    private static func endpoint(of bio: OpaquePointer?) -> TLSEndpoint? {
        guard let bio, let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<TLSEndpoint>.fromOpaque(data).takeUnretainedValue()
    }

    /// The BIO's callbacks: C function pointers, so they find the endpoint through BIO_get_data.
    private static func install(_ method: OpaquePointer) {
        _ = BIO_meth_set_write_ex(method) { bio, data, length, written in
            guard let endpoint = TLSEndpoint.endpoint(of: bio), let data, let written else { return 0 }
            endpoint.emit(UnsafeRawBufferPointer(start: data, count: length))
            written.pointee = length
            return 1
        }
        _ = BIO_meth_set_read_ex(method) { bio, data, length, readBytes in
            guard let endpoint = TLSEndpoint.endpoint(of: bio), let data, let readBytes else { return 0 }
            copenssl_bio_clear_retry_flags(bio)
            let count = endpoint.take(into: data, length)
            readBytes.pointee = count
            if count == 0 {
                copenssl_bio_set_retry_read(bio)  // "nothing yet": SSL_ERROR_WANT_READ, not EOF
                return 0
            }
            return 1
        }
        _ = BIO_meth_set_ctrl(method) { bio, command, _, _ in
            guard command == BIO_CTRL_FLUSH else { return 0 }
            TLSEndpoint.endpoint(of: bio)?.flushOutput()
            return 1
        }
        _ = BIO_meth_set_create(method) { bio in
            BIO_set_init(bio, 1)
            return 1
        }
    }
}

/// Named TLS bounds that are not configuration.
public enum TLSLimits {
    /// The largest TLS record's plaintext (RFC 8446 §5.1): a flush is cut into records this big.
    public static let recordPlaintextBytes = 16_384
    /// Ciphertext gathered before one send: four full records and their overhead.
    public static let cipherOutBytes = 4 * (recordPlaintextBytes + 512)
}
