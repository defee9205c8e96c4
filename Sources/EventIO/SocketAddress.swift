import Glibc

/// An IPv4 or IPv6 address and port, parsed without DNS (chatd binds and connects to literal
/// addresses; `localhost` is accepted as 127.0.0.1 for convenience).
public struct SocketAddress: CustomStringConvertible, Sendable {
    public var storage = sockaddr_storage()
    public private(set) var length: socklen_t = 0

    public init(host: String, port: UInt16) throws {
        let literal = host == "localhost" ? "127.0.0.1" : host
        let bare = literal.hasPrefix("[") && literal.hasSuffix("]") ? String(literal.dropFirst().dropLast()) : literal
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET, bare, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeBytes(of: &v4) { raw in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, bare, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            withUnsafeBytes(of: &v6) { raw in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            throw AddressError(text: host)
        }
    }

    /// Wraps an address filled in by `accept4` or `getsockname`.
    public init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    public var family: Int32 { Int32(storage.ss_family) }

    public var port: UInt16 {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// `127.0.0.1:52056` or `[::1]:52056`.
    public var description: String {
        if family != AF_INET6 { return ipv4Description }
        var copy = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        return withUnsafePointer(to: &copy) { pointer -> String in
            pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                var raw = address.pointee.sin6_addr
                inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
                return "[\(Self.string(text))]:\(UInt16(bigEndian: address.pointee.sin6_port))"
            }
        }
    }

    /// `a.b.c.d:port`, written digit by digit: what `inet_ntop` and `%u` print for an IPv4
    /// address, without the C buffer, the conversions and the interpolation (one per accept,
    /// so a visible share of a churn profile).
    private var ipv4Description: String {
        let (value, port) = ipv4AndPort
        var bytes: [UInt8] = []
        bytes.reserveCapacity(21)
        for shift in stride(from: 24, through: 0, by: -8) {
            Self.appendDecimal(UInt32(value >> UInt32(shift) & 0xFF), to: &bytes)
            bytes.append(shift == 0 ? UInt8(ascii: ":") : UInt8(ascii: "."))
        }
        Self.appendDecimal(UInt32(port), to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func appendDecimal(_ value: UInt32, to bytes: inout [UInt8]) {
        var divisor: UInt32 = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// An IPv4 address (host order) and port, read as `description` reads any non-IPv6 family.
    private var ipv4AndPort: (address: UInt32, port: UInt16) {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                (UInt32(bigEndian: $0.pointee.sin_addr.s_addr), UInt16(bigEndian: $0.pointee.sin_port))
            }
        }
    }

    /// The address's 128 bits in network order (an IPv4 address IPv4-mapped, `::ffff:a.b.c.d`),
    /// the same value `description`'s host part parses to: the I/O layer hands it to the core
    /// with the text, so nobody parses the text back.
    public var addressBits: (high: UInt64, low: UInt64) {
        guard family == AF_INET6 else { return (0, 0xFFFF << 32 | UInt64(ipv4AndPort.address)) }
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                withUnsafeBytes(of: address.pointee.sin6_addr) { raw in
                    var high: UInt64 = 0, low: UInt64 = 0
                    for index in 0..<8 { high = high << 8 | UInt64(raw[index]) }
                    for index in 8..<16 { low = low << 8 | UInt64(raw[index]) }
                    return (high, low)
                }
            }
        }
    }

    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with the address as the `sockaddr` pointer the socket calls take.
    public func withUnsafeSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

/// A host that is not a literal IPv4 or IPv6 address.
public struct AddressError: Error, CustomStringConvertible {
    public let text: String
    public var description: String { "\"\(text)\" is not an IPv4 or IPv6 address" }
}
