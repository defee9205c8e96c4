/// The server's address bans parsed once, so a connect is checked with one hash lookup for
/// single-address bans plus a scan of the (few) CIDR ranges, never by re-parsing stored text.
/// Rebuilt from `Hub.serverBans` whenever that changes (bans change rarely).
struct AddressBanIndex {
    /// Every address ban by its range, to the key it is stored under in `serverBans` (the
    /// canonical text for bans made by this version; older rows keep the text they were made
    /// with, and are still found by range).
    private(set) var keys: [AddressRange: String] = [:]
    /// The bans that cover more than one address.
    private var blocks: [AddressRange] = []

    init() {}

    init(_ bans: [String: ServerBan]) {
        for (key, ban) in bans where ban.isAddress {
            guard let range = AddressRange(key[...]) else { continue }  // not an address: matches nobody
            keys[range] = key
            if !range.isSingleAddress { blocks.append(range) }
        }
    }

    /// The stored key of the ban on exactly `range`, if there is one.
    func key(for range: AddressRange) -> String? { keys[range] }

    /// The stored keys of every ban covering `address`.
    func keys(covering address: IPAddress) -> [String] {
        var found: [String] = []
        if let key = keys[AddressRange(address)] { found.append(key) }
        for block in blocks where block.contains(address) {
            if let key = keys[block] { found.append(key) }
        }
        return found
    }
}
