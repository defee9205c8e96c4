/// Cleans a byte stream from a server before `chatd client` prints it, so a hostile server
/// cannot drive the user's terminal (retitle it, clear it, remap keys, forge lines: CWE-150).
/// The same rules the server applies to what clients send, plus whole escape sequences:
///
/// - C0 controls are dropped except TAB and LF (the line separator); so are CR and DEL.
/// - Escape sequences are dropped whole, not just their ESC: CSI (`ESC [ … final`), the
///   string commands OSC, DCS, SOS, PM and APC (`ESC ] … BEL` or `… ESC \`), and two-byte
///   `ESC x`. Their C1 forms (U+009B CSI, U+009D OSC, …) are treated the same way; every other
///   C1 control (U+0080–U+009F) is dropped.
/// - Invalid UTF-8 becomes U+FFFD, one per maximal invalid prefix.
///
/// Streaming: a sequence or a UTF-8 character split across reads is handled, and nothing is
/// buffered beyond the 3 bytes of an unfinished character. A string command is ended by a
/// newline as well, so one stray `ESC ]` cannot swallow everything after it.
public struct TerminalSanitizer: Sendable {
    private enum State: Sendable {
        case text
        /// After ESC.
        case escape
        /// After ESC and an intermediate byte (`ESC ( B`), until a final byte 0x30–0x7E.
        case escapeIntermediate
        /// Inside a CSI, until a final byte 0x40–0x7E.
        case controlSequence
        /// Inside OSC/DCS/SOS/PM/APC, until BEL, ST (`ESC \` or U+009C) or a newline.
        case string
        /// ESC seen inside a string: `\` ends it.
        case stringEscape
    }

    private var state = State.text
    /// The lead and continuation bytes of an unfinished UTF-8 character.
    private var pending: [UInt8] = []
    private var expected = 0

    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    public init() {}

    /// Appends the printable part of `bytes` to `out`.
    public mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes, into out: inout [UInt8]) {
        for byte in bytes { take(byte, into: &out) }
    }

    private mutating func take(_ byte: UInt8, into out: inout [UInt8]) {
        if expected > 0 {
            if byte & 0xC0 == 0x80 && Self.continuationAllowed(byte, after: pending) {
                pending.append(byte)
                if pending.count == expected { finishCharacter(into: &out) }
                return
            }
            if state == .text { out.append(contentsOf: Self.replacement) }  // the character was cut short
            pending.removeAll(keepingCapacity: true)
            expected = 0
        }
        if byte < 0x80 {
            ascii(byte, into: &out)
            return
        }
        let length: Int
        switch byte {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default:
            if state == .text { out.append(contentsOf: Self.replacement) }
            return
        }
        pending.append(byte)
        expected = length
    }

    /// RFC 3629's limits on the second byte (no overlongs, surrogates or values past U+10FFFF).
    private static func continuationAllowed(_ byte: UInt8, after pending: [UInt8]) -> Bool {
        guard pending.count == 1, let lead = pending.first else { return true }
        switch lead {
        case 0xE0: return byte >= 0xA0
        case 0xED: return byte <= 0x9F
        case 0xF0: return byte >= 0x90
        case 0xF4: return byte <= 0x8F
        default: return true
        }
    }

    private mutating func finishCharacter(into out: inout [UInt8]) {
        defer {
            pending.removeAll(keepingCapacity: true)
            expected = 0
        }
        if pending.count == 2 && pending[0] == 0xC2 && pending[1] < 0xA0 {
            c1(pending[1], into: &out)
            return
        }
        if state == .text { out.append(contentsOf: pending) }  // text inside a sequence is dropped
    }

    /// A C1 control, U+0080–U+009F (`second` is its second UTF-8 byte, 0x80–0x9F).
    private mutating func c1(_ second: UInt8, into out: inout [UInt8]) {
        switch second {
        case 0x9B: state = .controlSequence  // CSI
        case 0x90, 0x98, 0x9D, 0x9E, 0x9F: state = .string  // DCS, SOS, OSC, PM, APC
        case 0x9C: if state == .string || state == .stringEscape { state = .text }  // ST
        default: break
        }
    }

    private mutating func ascii(_ byte: UInt8, into out: inout [UInt8]) {
        let escape: UInt8 = 0x1B, newline: UInt8 = 0x0A, tab: UInt8 = 0x09, bell: UInt8 = 0x07
        switch state {
        case .text:
            if byte == escape {
                state = .escape
            } else if byte == newline || byte == tab || (byte >= 0x20 && byte != 0x7F) {
                out.append(byte)
            }
        case .escape:
            switch byte {
            case UInt8(ascii: "["): state = .controlSequence
            case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "X"), UInt8(ascii: "^"), UInt8(ascii: "_"): state = .string
            case escape: break  // ESC ESC: still one escape pending
            case newline:
                state = .text
                out.append(newline)
            default:
                state = byte >= 0x20 && byte <= 0x2F ? .escapeIntermediate : .text  // `ESC x` is two bytes
            }
        case .escapeIntermediate:
            if byte >= 0x30 && byte <= 0x7E {
                state = .text
            } else if byte == newline {
                state = .text
                out.append(newline)
            } else if byte == escape {
                state = .escape
            }
        case .controlSequence:
            if byte >= 0x40 && byte <= 0x7E {
                state = .text
            } else if byte == newline {
                state = .text
                out.append(newline)
            } else if byte == escape {
                state = .escape
            }
        case .string:
            if byte == bell {
                state = .text
            } else if byte == escape {
                state = .stringEscape
            } else if byte == newline {
                state = .text
                out.append(newline)
            }
        case .stringEscape:
            if byte == UInt8(ascii: "\\") {
                state = .text
            } else if byte == newline {
                state = .text
                out.append(newline)
            } else if byte != escape {
                state = .string
            }
        }
    }
}
