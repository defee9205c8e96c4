/// Client addresses as the I/O layer reports them: `127.0.0.1:52056`, `[::1]:52056`.
public enum ClientAddress {
    /// The IP address without the port or IPv6 brackets (`127.0.0.1`, `::1`): the key for the
    /// per-address connection limit, login rate limits and address bans, and what an operator
    /// types after `/ban`.
    public static func host(of address: String) -> Substring {
        guard let colon = address.lastIndex(of: ":") else { return address[...] }
        let host = address[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { return host.dropFirst().dropLast() }
        return host.contains(":") ? address[...] : host  // a bare IPv6 address has no port
    }
}
