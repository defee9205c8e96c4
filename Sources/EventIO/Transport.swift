import Glibc

/// The seam below framing: what carries a connection's bytes. Plain TCP and TLS offer the same
/// few operations — read application bytes into a buffer, take a vector of application bytes
/// for sending, report whether the transport's own opening exchange is over, end the session —
/// and the connection, the framer and the hub above never ask which one they have. A new
/// transport (WebSocket framing, a cluster link) is a new conforming type, not a case in the
/// server. (Redis 7 `connection.h`'s `ConnectionType` table; InspIRCd's `IOHook`.)
///
/// Wire bytes — what actually crosses the socket — always leave through a `WireSink`, which
/// writes what the socket takes now and keeps the rest in the connection's backlog. So one
/// backlog, one write watcher, one set of output limits and one client-memory budget cover
/// every transport, and what a full socket refuses is held at its wire size (ciphertext for
/// TLS).
public protocol Transport: AnyObject {
    /// The transport's own opening exchange (a TLS handshake) is done, so application bytes
    /// flow. Plain TCP is established at once. Until then the hub does not know the client.
    var isEstablished: Bool { get }

    /// Reads what the peer sent, as application bytes, into `buffer` (never more than its
    /// size). Anything the transport must answer on its own (a handshake flight, an alert)
    /// goes to `sink`. Throws when the peer broke the transport's protocol; the caller closes.
    func read(into buffer: UnsafeMutableRawBufferPointer, sink: WireSink) throws -> TransportRead

    /// Takes every application byte of `vectors[0..<count]` and hands their wire form to
    /// `sink`. Throws only when the transport itself fails (the caller closes the client).
    func write(_ vectors: UnsafeMutablePointer<iovec>, count: Int, sink: WireSink) throws

    /// Ends the session just before the socket closes (TLS sends close_notify if `sink` takes
    /// it now) and releases the transport's resources. Called once.
    func close(sink: WireSink)

    /// How the session is carried, for the connect log line: "" for plain TCP,
    /// " over TLSv1.3 (TLS_AES_128_GCM_SHA256)" for TLS.
    var summary: String { get }
}

/// What one `Transport.read` produced: `count` application bytes at the start of the buffer,
/// then, if `ended`, the end of the peer's input (a FIN, or TLS close_notify). Both can come
/// from one read: TLS may decrypt a last line and the close_notify behind it together.
public struct TransportRead: Equatable, Sendable {
    public var count: Int
    public var ended: Bool

    /// Nothing complete arrived yet (the socket was empty, or half a TLS record).
    public static let nothing = TransportRead(count: 0, ended: false)
}

/// Where a transport's wire bytes go: the socket while it takes them, the connection's backlog
/// once it does not (and, to keep order, whenever the backlog is not empty). Never blocks and
/// never fails to take bytes: a socket error is remembered for the caller, which closes the
/// client after the operation.
public protocol WireSink: AnyObject {
    /// Sends `vectors[0..<count]` as they are (the plaintext path: straight from the arena).
    func send(_ vectors: UnsafeMutablePointer<iovec>, count: Int)
    /// Sends one contiguous buffer (the TLS path: freshly made ciphertext).
    func send(_ bytes: UnsafeRawBufferPointer)
    /// Whether the socket may be written now: false once bytes wait in the backlog or a write
    /// failed. A transport may skip work that only helps an immediate write (TLS close_notify).
    var isWritable: Bool { get }
}
