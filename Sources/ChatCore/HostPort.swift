/// `HOST:PORT` as the command line takes an address: `127.0.0.1:9100`, `[::1]:9100`,
/// `localhost:9100`. The host is not resolved here; the I/O layer accepts literals only.
public enum HostPort {
    /// The host (brackets removed) and the port, or nil when there is no host or no valid port.
    public static func parse(_ text: String) -> (host: String, port: UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil  // an IPv6 address needs brackets: "::1:9100" is ambiguous
        }
        return host.isEmpty ? nil : (host, port)
    }
}
