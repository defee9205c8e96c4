/// Which addresses count as one source of password attempts.
///
/// An IPv4 address is one source. An IPv6 address counts as its /64: that is the smallest
/// block a site or even a single host is given (RFC 6177, SLAAC), so one attacker can rotate
/// through 2^64 addresses of it and a per-address limit would not limit anything.
/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, a dual-stack listener) is its IPv4 address
/// (`IPAddress` holds both forms as one value).
extension ClientAddress {
    /// The key for password attempt limits and the fair password queue: `192.0.2.1`, or
    /// `2001:db8:0:1::/64`. Text that is not an IP address is its own key.
    public static func attemptSource(ofHost host: Substring) -> String {
        IPAddress(host).map(attemptSource(of:)) ?? String(host)
    }

    public static func attemptSource(of address: IPAddress) -> String {
        address.isIPv4 ? address.description : IPAddress(high: address.high, low: 0).description + "/64"
    }
}
