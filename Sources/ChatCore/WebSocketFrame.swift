/// RFC 6455 frame vocabulary shared by the decoder (client frames) and the encoder (server
/// frames).
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Close, ping and pong: at most 125 bytes of payload, never fragmented (§5.5), and they may
    /// arrive between the fragments of a data message.
    public var isControl: Bool { rawValue >= 0x8 }
}

/// The close status codes chatd sends (RFC 6455 §7.4.1).
public enum WebSocketCloseCode: UInt16, Sendable {
    case normal = 1000
    case goingAway = 1001
    case protocolError = 1002
    case unsupportedData = 1003
    case invalidText = 1007
    case policyViolation = 1008
    case tooBig = 1009

    /// Whether a peer may send `code` in its close frame (§7.4.1, §7.4.2): 1000–1003, 1007–1011
    /// and the 3000–4999 ranges for libraries and applications. 1004–1006 and 1015 are reserved
    /// and must never be on the wire; the rest of 1000–2999 is unassigned.
    public static func isValidFromPeer(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: return true
        default: return false
        }
    }
}

/// Server frames. A server never masks (§5.1), so a frame's bytes depend only on its payload:
/// one text frame rendered once is the same bytes for every browser that receives it, which is
/// what keeps WebSocket fan-out render-once like the native lines.
public enum WebSocketFrame {
    /// Largest header a server frame has: 2 bytes plus a 64-bit length.
    public static let maxHeaderBytes = 10

    /// Appends a FIN frame header for `payloadLength` bytes with the shortest length encoding
    /// (§5.2: 7 bits up to 125, then 16 bits, then 64 bits).
    public static func appendHeader(_ opcode: WebSocketOpcode, payloadLength: Int, into out: inout [UInt8]) {
        out.append(0x80 | opcode.rawValue)
        switch payloadLength {
        case ..<126:
            out.append(UInt8(payloadLength))
        case ..<65536:
            out.append(126)
            out.append(UInt8(payloadLength >> 8))
            out.append(UInt8(payloadLength & 0xFF))
        default:
            out.append(127)
            let length = UInt64(payloadLength)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((length >> UInt64(shift)) & 0xFF)) }
        }
    }

    /// The header length `appendHeader` writes for `payloadLength`.
    public static func headerBytes(payloadLength: Int) -> Int {
        payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10
    }

    /// A whole text frame.
    public static func text(_ payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + maxHeaderBytes)
        appendHeader(.text, payloadLength: payload.count, into: &out)
        out.append(contentsOf: payload)
        return out
    }

    /// A close frame with `code` and a short reason (cut so the payload stays within 125 bytes,
    /// at a character boundary).
    public static func close(_ code: WebSocketCloseCode, reason: String = "") -> [UInt8] {
        close(rawCode: code.rawValue, reason: reason)
    }

    /// A close frame with any code (used to echo the peer's own code back, §5.5.1).
    public static func close(rawCode: UInt16, reason: String = "") -> [UInt8] {
        var payload: [UInt8] = [UInt8(rawCode >> 8), UInt8(rawCode & 0xFF)]
        var room = 123
        for scalar in reason.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if bytes.count > room { break }
            room -= bytes.count
            payload.append(contentsOf: bytes)
        }
        var out: [UInt8] = []
        appendHeader(.close, payloadLength: payload.count, into: &out)
        out.append(contentsOf: payload)
        return out
    }

    /// A pong answering a ping with the ping's payload (§5.5.3).
    public static func pong(_ payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        appendHeader(.pong, payloadLength: payload.count, into: &out)
        out.append(contentsOf: payload)
        return out
    }
}
