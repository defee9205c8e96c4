/// An IPv4 or IPv6 address as one 128-bit value, so addresses compare as addresses and not as
/// text: `::1`, `0:0:0:0:0:0:0:1` and `::0001` are one value, and an IPv4 address is held in
/// its IPv4-mapped form (`::ffff:127.0.0.1`), so that spelling and `127.0.0.1` are one value
/// too. Parsed here rather than with `inet_pton` because the core has no Glibc.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The first and last 64 of the 128 bits, in network order.
    public let high: UInt64
    public let low: UInt64

    /// The top 96 bits of every IPv4-mapped address (`::ffff:0:0/96`).
    static let mappedPrefixLow: UInt64 = 0xFFFF << 32

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The IPv4 address `a.b.c.d` given as the 32-bit number `a<<24 | b<<16 | c<<8 | d`.
    public init(ipv4 value: UInt32) {
        self.init(high: 0, low: Self.mappedPrefixLow | UInt64(value))
    }

    /// An IPv4 dotted quad (`127.0.0.1`) or an IPv6 address in any RFC 4291 form (`::1`,
    /// `2001:DB8::0001`, `::ffff:127.0.0.1`, brackets allowed); nil for anything else,
    /// including IPv4 shorthands (`127.1`), octets with leading zeros (ambiguous: octal to
    /// `inet_aton`) and zone indexes (`fe80::1%eth0`).
    public init?(_ text: Substring) {
        var bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]"), bytes.count > 2 {
            bytes = Array(bytes.dropFirst().dropLast())
        }
        guard bytes.count <= Self.maxTextBytes else { return nil }
        if !bytes.contains(UInt8(ascii: ":")) {
            guard let value = Self.parseIPv4(bytes[...]) else { return nil }
            self.init(ipv4: value)
            return
        }
        guard let groups = Self.parseIPv6(bytes) else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, group) in groups.enumerated() {
            if index < 4 { high = high << 16 | UInt64(group) } else { low = low << 16 | UInt64(group) }
        }
        self.init(high: high, low: low)
    }

    /// Longest text worth parsing: a full IPv6 address with an IPv4 tail is 45 bytes.
    static let maxTextBytes = 45

    /// Whether this is an IPv4 address (held IPv4-mapped).
    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// The canonical text: dotted quad for IPv4 (mapped or not), RFC 5952 for IPv6
    /// (lowercase, no leading zeros, the longest run of two or more zero groups as `::`).
    public var description: String {
        if isIPv4 {
            let value = UInt32(truncatingIfNeeded: low)
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        }
        let groups = (0..<8).map { index -> UInt16 in
            let half = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> (UInt64(3 - index % 4) * 16))
        }
        var bestStart = -1
        var bestLength = 1  // a single zero group is not compressed
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > bestLength {
                bestStart = index
                bestLength = end - index
            }
            index = end
        }
        func hex(_ slice: ArraySlice<UInt16>) -> String { slice.map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(groups[...]) }
        return hex(groups[..<bestStart]) + "::" + hex(groups[(bestStart + bestLength)...])
    }

    /// Four decimal octets 0–255 without leading zeros.
    static func parseIPv4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let octet = decimal(part, maxDigits: 3), octet <= 255 else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    /// A decimal number of 1…`maxDigits` digits without a leading zero (except `0` itself).
    static func decimal(_ digits: ArraySlice<UInt8>, maxDigits: Int) -> Int? {
        guard !digits.isEmpty, digits.count <= maxDigits, digits.count == 1 || digits.first != UInt8(ascii: "0") else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// The eight 16-bit groups of an IPv6 address: groups of 1–4 hex digits separated by `:`,
    /// at most one `::` standing for one or more zero groups, and optionally an IPv4 dotted
    /// quad as the last 32 bits.
    private static func parseIPv6(_ bytes: [UInt8]) -> [UInt16]? {
        let colon = UInt8(ascii: ":")
        var gap: Int?
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == colon && bytes[index + 1] == colon {
                gap = index
                break
            }
            index += 1
        }
        guard let gap else {
            guard let groups = groups(bytes[...], ipv4Tail: true), groups.count == 8 else { return nil }
            return groups
        }
        guard let head = groups(bytes[..<gap], ipv4Tail: false),
              let tail = groups(bytes[(gap + 2)...], ipv4Tail: true),
              head.count + tail.count <= 7 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    /// Colon-separated groups (empty text: none). An empty group (`1::2::3`, `:1`) is invalid.
    private static func groups(_ bytes: ArraySlice<UInt8>, ipv4Tail: Bool) -> [UInt16]? {
        if bytes.isEmpty { return [] }
        let parts = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if part.contains(UInt8(ascii: ".")) {
                guard ipv4Tail, index == parts.count - 1, let value = parseIPv4(part) else { return nil }
                groups.append(UInt16(value >> 16))
                groups.append(UInt16(value & 0xFFFF))
                continue
            }
            guard !part.isEmpty, part.count <= 4 else { return nil }
            var value: UInt16 = 0
            for byte in part {
                guard let digit = hexDigit(byte) else { return nil }
                value = value << 4 | UInt16(digit)
            }
            groups.append(value)
        }
        return groups
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
