import EventIO
import Glibc

/// The marker every benchmark message carries at the end of its line:
/// `BM` + 4 hex digits of sender + 8 of sequence + 16 of send time (ns, CLOCK_MONOTONIC).
/// Fixed width at a fixed distance from the line end, so a receiver decodes it without
/// scanning, whatever protocol wraps it (chatd's `#room <nick> `, Redis's RESP bulk string).
enum Payload {
    static let length = 30
    static let magic: (UInt8, UInt8) = (UInt8(ascii: "B"), UInt8(ascii: "M"))
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func encode(sender: Int, sequence: UInt32, time: UInt64, into out: inout ByteQueue) {
        out.append(magic.0)
        out.append(magic.1)
        appendHex(UInt64(sender), digits: 4, to: &out)
        appendHex(UInt64(sequence), digits: 8, to: &out)
        appendHex(time, digits: 16, to: &out)
    }

    private static func appendHex(_ value: UInt64, digits: Int, to out: inout ByteQueue) {
        var shift = (digits - 1) * 4
        while shift >= 0 {
            out.append(hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }

    /// Decodes the payload that ends at `end` (exclusive), or nil if none is there.
    static func decode(_ bytes: UnsafeRawBufferPointer, end: Int) -> (sender: Int, sequence: UInt32, time: UInt64)? {
        let start = end - length
        guard start >= 0, end <= bytes.count, bytes[start] == magic.0, bytes[start + 1] == magic.1,
              let sender = hex(bytes, start + 2, 4), let sequence = hex8(bytes, start + 6),
              let high = hex8(bytes, start + 14), let low = hex8(bytes, start + 22) else { return nil }
        return (Int(sender), UInt32(sequence), high << 32 | low)
    }

    /// Reads `count` lowercase hex digits one at a time.
    private static func hex(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> UInt64? {
        var value: UInt64 = 0
        for index in start..<(start + count) {
            let byte = bytes[index]
            guard byte &- 0x30 < 10 || byte &- 0x61 < 6 else { return nil }
            value = value << 4 | UInt64((byte & 0x0F) &+ (byte >> 6) &* 9)
        }
        return value
    }

    /// Reads 8 lowercase hex digits with one 64-bit load (SWAR): receivers decode one marker per
    /// delivery, millions a second, and the load tool must outrun the server it measures.
    @inline(__always)
    private static func hex8(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> UInt64? {
        let text = bytes.loadUnaligned(fromByteOffset: start, as: UInt64.self)  // first digit in the lowest byte
        // Every byte must be '0'...'9' (0x30...0x39) or 'a'...'f' (0x61...0x66).
        let letters = (text & 0x4040_4040_4040_4040) >> 6  // 1 in each letter byte
        let letterBits = letters &* 0x10  // 0x10 in each letter byte
        let low = text & 0x0F0F_0F0F_0F0F_0F0F
        guard text & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030 &+ letters &* 0x30 else { return nil }
        let over9 = (low &+ 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010  // low nibble 10 or more
        let over6 = (low &+ 0x0909_0909_0909_0909) & 0x1010_1010_1010_1010  // low nibble 7 or more
        let nonZero = (low &+ 0x0F0F_0F0F_0F0F_0F0F) & 0x1010_1010_1010_1010  // low nibble 1 or more
        guard over9 & ~letterBits == 0, over6 & letterBits == 0, nonZero & letterBits == letterBits else { return nil }
        var value = low &+ letters &* 9  // each byte now 0...15
        value = ((value << 4) | (value >> 8)) & 0x00FF_00FF_00FF_00FF
        value = ((value << 8) | (value >> 16)) & 0x0000_FFFF_0000_FFFF
        value = ((value << 16) | (value >> 32)) & 0x0000_0000_FFFF_FFFF
        return value
    }
}

/// Monotonic nanoseconds: the same clock for sender and receiver, both in this process.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
