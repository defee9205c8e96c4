/// A CIDR block of addresses (`127.0.0.0/8`, `2001:db8::/32`), or a single address (`::1`,
/// `127.0.0.2`): what a server-wide or room address ban covers. Held in the 128-bit space of
/// `IPAddress`, where an IPv4 prefix `/n` is `/96+n` of the IPv4-mapped block, so one test
/// covers both families and a mapped spelling matches its IPv4 address.
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block (host bits zero).
    public let network: IPAddress
    /// Leading bits that must match, 0–128.
    public let prefixLength: Int

    /// The range of exactly one address.
    public init(_ address: IPAddress) {
        network = address
        prefixLength = 128
    }

    /// `ADDRESS` or `ADDRESS/BITS` (0–32 for an IPv4 address, 0–128 for IPv6). Host bits set
    /// below the prefix are cleared, so `127.0.0.1/8` is `127.0.0.0/8`. Nil for anything else.
    public init?(_ text: Substring) {
        let slash = text.firstIndex(of: "/")
        guard let address = IPAddress(slash.map { text[..<$0] } ?? text) else { return nil }
        var length = 128
        if let slash {
            let written = text.utf8[text.utf8.index(after: slash)...]
            let bits = text[..<slash].contains(":") ? 128 : 32  // no colon: it parsed as IPv4
            guard let value = IPAddress.decimal(ArraySlice(written), maxDigits: 3), value <= bits else { return nil }
            length = value + (128 - bits)
        }
        let (highMask, lowMask) = Self.masks(length)
        network = IPAddress(high: address.high & highMask, low: address.low & lowMask)
        prefixLength = length
    }

    /// Whether `address` lies in the block.
    public func contains(_ address: IPAddress) -> Bool {
        let (highMask, lowMask) = Self.masks(prefixLength)
        return address.high & highMask == network.high && address.low & lowMask == network.low
    }

    /// Whether the block is one address.
    public var isSingleAddress: Bool { prefixLength == 128 }

    /// Canonical text, the key a ban is stored under: the address alone for a single address,
    /// else `network/bits`, with IPv4 blocks (inside `::ffff:0:0/96`) written as IPv4.
    public var description: String {
        if isSingleAddress { return network.description }
        // A masked network is IPv4-mapped only with a prefix of 96 or more (a shorter one
        // clears part of the `ffff`).
        if network.isIPv4 { return "\(network)/\(prefixLength - 96)" }
        return "\(network)/\(prefixLength)"
    }

    /// The masks of the first and last 64 bits for a prefix of `length` bits.
    private static func masks(_ length: Int) -> (UInt64, UInt64) {
        let all = UInt64.max
        let high = length >= 64 ? all : (length <= 0 ? 0 : all << UInt64(64 - length))
        let low = length >= 128 ? all : (length <= 64 ? 0 : all << UInt64(128 - length))
        return (high, low)
    }
}
