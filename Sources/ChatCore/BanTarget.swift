/// What a `/ban` or `/unban` argument names, server-wide or in a room.
///
/// - An address or CIDR range (`127.0.0.2`, `::0001`, `127.0.0.0/8`, `2001:db8::/32`) covers
///   addresses, compared as addresses: every spelling of one address is the same ban.
/// - A guest's address name (`127.0.0.1:52056`, `[::1]:52056`), the name a client that never
///   chose one is shown by, covers that guest's address (not the port, which changes on every
///   connection), so the ban still holds after it reconnects or picks a name.
/// - Anything else that is a valid name is a name ban.
public enum BanTarget: Equatable, Sendable {
    /// A folded name.
    case name(String)
    case addresses(AddressRange)

    public init?(_ text: String) {
        if let range = AddressRange(text[...]) {
            self = .addresses(range)
        } else if let address = ClientAddress.ip(ofAddressName: text[...]) {
            self = .addresses(AddressRange(address))
        } else if NameRules.isValidName(text[...]) {
            self = .name(NameRules.fold(text))
        } else {
            return nil
        }
    }
}
