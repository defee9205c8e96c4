import Glibc

/// Plain TCP: application bytes are wire bytes. Reads are one `read(2)`; writes hand the
/// caller's iovecs (pointing into the outbox's arenas) to the sink untouched, so plaintext fan-out
/// stays zero-copy.
///
/// One check lives here because only the transport sees raw bytes first: a TLS ClientHello on
/// the plaintext port (first byte 0x16, a TLS handshake record) is refused at once, so a client
/// that meant the TLS port gets a close and one log line instead of having its handshake
/// framed as junk lines.
public final class PlainTransport: Transport {
    private let fd: Int32
    /// Set once the first byte has been read and looked at.
    private var sawFirstByte = false

    /// The first byte of every TLS connection: a handshake record (ContentType 22).
    public static let tlsHandshakeRecord: UInt8 = 0x16

    public init(fd: Int32) { self.fd = fd }

    public var isEstablished: Bool { true }
    public var summary: String { "" }

    public func read(into buffer: UnsafeMutableRawBufferPointer, sink: WireSink) throws -> TransportRead {
        switch try Socket.read(fd, into: buffer) {
        case .done(let count):
            if !sawFirstByte {
                sawFirstByte = true
                if buffer[0] == Self.tlsHandshakeRecord { throw TransportError.wrongPort("a TLS ClientHello on the plaintext port") }
            }
            return TransportRead(count: count, ended: false)
        case .endOfFile:
            return TransportRead(count: 0, ended: true)
        case .wouldBlock:
            return .nothing
        }
    }

    public func write(_ vectors: UnsafeMutablePointer<iovec>, count: Int, sink: WireSink) throws {
        sink.send(vectors, count: count)
    }

    public func close(sink: WireSink) {}
}

/// A peer that spoke the wrong protocol to a transport: the client is closed with this reason.
public enum TransportError: Error, CustomStringConvertible {
    case wrongPort(String)

    public var description: String {
        switch self {
        case .wrongPort(let text): return text
        }
    }
}
