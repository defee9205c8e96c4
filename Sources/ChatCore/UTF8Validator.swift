/// An incremental UTF-8 checker (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
/// A WebSocket text message may be split across fragments at any byte, even inside a
/// character, and RFC 6455 §8.1 asks the endpoint to fail as soon as the bytes so far can no
/// longer be valid: so the state carries across `feed` calls instead of checking whole messages.
public struct UTF8Validator: Sendable, Equatable {
    /// Continuation bytes still expected for the current character.
    private var pending = 0
    /// The allowed range of the next continuation byte (narrowed after E0, ED, F0, F4).
    private var low: UInt8 = 0x80
    private var high: UInt8 = 0xBF

    public init() {}

    /// False as soon as `bytes` cannot continue a valid UTF-8 text; the state is then
    /// meaningless (the caller fails the connection).
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> Bool {
        for byte in bytes {
            if pending > 0 {
                guard byte >= low && byte <= high else { return false }
                pending -= 1
                low = 0x80
                high = 0xBF
                continue
            }
            switch byte {
            case 0x00...0x7F: continue
            case 0xC2...0xDF: pending = 1
            case 0xE0: pending = 2; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: pending = 2
            case 0xED: pending = 2; high = 0x9F
            case 0xF0: pending = 3; low = 0x90
            case 0xF1...0xF3: pending = 3
            case 0xF4: pending = 3; high = 0x8F
            default: return false
            }
        }
        return true
    }

    /// True when no character is cut off: the end of a message may come here.
    public var isComplete: Bool { pending == 0 }
}
