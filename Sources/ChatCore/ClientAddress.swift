/// Client addresses as the I/O layer reports them: `127.0.0.1:52056`, `[::1]:52056`.
public enum ClientAddress {
    /// The IP address without the port or IPv6 brackets (`127.0.0.1`, `::1`): the key for the
    /// per-address connection limit, login rate limits and address bans, and what an operator
    /// types after `/ban`.
    ///
    /// Scans UTF-8 bytes, not Characters: it runs several times per connection (churn profiles
    /// showed the Character version at 6% of the loop).
    public static func host(of address: String) -> Substring {
        let utf8 = address.utf8
        let colonByte = UInt8(ascii: ":")
        guard let colon = utf8.lastIndex(of: colonByte) else { return address[...] }
        let start = utf8.startIndex
        if utf8.first == UInt8(ascii: "["), colon > start, utf8[utf8.index(before: colon)] == UInt8(ascii: "]") {
            return address[utf8.index(after: start)..<utf8.index(before: colon)]
        }
        return utf8[start..<colon].contains(colonByte) ? address[...] : address[start..<colon]  // a bare IPv6 address has no port
    }

    /// The IP address of an address name with its port (`127.0.0.1:52056`, `[::1]:52056`),
    /// as a guest is shown; nil if `text` is not of that form. A bare address (`::1`) is not
    /// an address name: that is `IPAddress`'s to parse.
    public static func ip(ofAddressName text: Substring) -> IPAddress? {
        guard let colon = text.lastIndex(of: ":"),
              IPAddress.decimal(ArraySlice(text.utf8[text.utf8.index(after: colon)...]), maxDigits: 5) != nil else { return nil }
        let host = text[..<colon]
        if host.hasPrefix("[") { return host.hasSuffix("]") ? IPAddress(host) : nil }
        return host.contains(":") ? nil : IPAddress(host)
    }
}
