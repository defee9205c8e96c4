import Glibc

/// The marker every benchmark message carries at the end of its line:
/// `BM` + 4 hex digits of sender + 8 of sequence + 16 of send time (ns, CLOCK_MONOTONIC).
/// Fixed width at a fixed distance from the line end, so a receiver decodes it without
/// scanning, whatever protocol wraps it (chatd's `#room <nick> `, Redis's RESP bulk string).
enum Payload {
    static let length = 30
    static let magic: (UInt8, UInt8) = (UInt8(ascii: "B"), UInt8(ascii: "M"))
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func encode(sender: Int, sequence: UInt32, time: UInt64, into out: inout [UInt8]) {
        out.append(magic.0)
        out.append(magic.1)
        appendHex(UInt64(sender), digits: 4, to: &out)
        appendHex(UInt64(sequence), digits: 8, to: &out)
        appendHex(time, digits: 16, to: &out)
    }

    private static func appendHex(_ value: UInt64, digits: Int, to out: inout [UInt8]) {
        var shift = (digits - 1) * 4
        while shift >= 0 {
            out.append(hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }

    /// Decodes the payload that ends at `end` (exclusive), or nil if none is there.
    static func decode(_ bytes: UnsafeRawBufferPointer, end: Int) -> (sender: Int, sequence: UInt32, time: UInt64)? {
        let start = end - length
        guard start >= 0, bytes[start] == magic.0, bytes[start + 1] == magic.1,
              let sender = hex(bytes, start + 2, 4), let sequence = hex(bytes, start + 6, 8),
              let time = hex(bytes, start + 14, 16) else { return nil }
        return (Int(sender), UInt32(sequence), time)
    }

    @inline(__always)
    private static func hex(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> UInt64? {
        var value: UInt64 = 0
        for index in start..<(start + count) {
            let byte = bytes[index]
            let digit: UInt8
            if byte >= 0x30 && byte <= 0x39 {
                digit = byte - 0x30
            } else if byte >= 0x61 && byte <= 0x66 {
                digit = byte - 0x61 + 10
            } else {
                return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}

/// Monotonic nanoseconds: the same clock for sender and receiver, both in this process.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
