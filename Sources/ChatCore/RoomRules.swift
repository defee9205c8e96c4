/// One room's access rules as the cluster keeps them (`--cluster`): its owner, its key and its
/// bans, as the fields of the Redis hash `chatd:rules:<room>` and of the `.rule` messages that
/// announce each change. Every node keeps every room's rules (`ClusterView.rules`), so a
/// `/join` on any node is checked against the same rules at once, without a round trip.
///
/// A rule is one field and one value, the same in the hash and in the announcement:
/// - `owner` → `a:ACCOUNT` (a folded account name) or `c:NODE ADDRESS` (a guest's connection
///   on a node; node names and addresses hold no space);
/// - `key` → the key `/join` needs;
/// - `ban:n:NAME` (a folded name) or `ban:r:RANGE` (an address or range in canonical text) → `1`.
/// An empty value removes the field; the field `*` (announced only) removes the whole room:
/// it emptied on every node, and its rules go with it, as on one node.
public struct RoomRules: Equatable, Sendable {
    /// Who owns the room.
    public enum Owner: Equatable, Sendable {
        /// An account (folded name): whoever is logged in as it, on any node.
        case account(String)
        /// A guest's connection on a node, for as long as it stays in the room.
        case client(node: String, address: String)

        /// The hash value.
        public var encoded: String {
            switch self {
            case .account(let name): return "a:" + name
            case .client(let node, let address): return "c:" + node + " " + address
            }
        }

        public init?(_ text: String) {
            if text.hasPrefix("a:"), case let name = String(text.dropFirst(2)), NameRules.isValidName(Substring(name)) {
                self = .account(NameRules.fold(name))
                return
            }
            guard text.hasPrefix("c:") else { return nil }
            let parts = text.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, RedisURL.isValidNodeName(String(parts[0])), !parts[1].isEmpty else { return nil }
            self = .client(node: String(parts[0]), address: String(parts[1]))
        }
    }

    public var owner: Owner?
    public var key: String?
    /// Bans as their field suffix: `n:NAME` or `r:RANGE`.
    public var bans: Set<String> = []

    public init(owner: Owner? = nil, key: String? = nil, bans: Set<String> = []) {
        self.owner = owner
        self.key = key
        self.bans = bans
    }

    /// The field that removes a room's rules altogether (announced, never stored).
    public static let clearField = "*"

    /// The hash's fields and values.
    public var fields: [(field: String, value: String)] {
        var fields: [(String, String)] = []
        if let owner { fields.append(("owner", owner.encoded)) }
        if let key { fields.append(("key", key)) }
        for ban in bans.sorted() { fields.append(("ban:" + ban, "1")) }
        return fields
    }

    /// Rules read from the hash (unknown or malformed fields are skipped: another version's,
    /// or damaged by hand).
    public init(fields: [(field: String, value: String)]) {
        for (field, value) in fields { apply(field: field, value: value) }
    }

    /// Applies one announced or stored rule; false when it means nothing to this version.
    @discardableResult
    public mutating func apply(field: String, value: String) -> Bool {
        switch field {
        case "owner":
            if value.isEmpty { owner = nil } else if let parsed = Owner(value) { owner = parsed } else { return false }
        case "key":
            key = value.isEmpty ? nil : value
        case _ where field.hasPrefix("ban:"):
            let ban = String(field.dropFirst(4))
            guard Self.banRule(ban) != nil else { return false }
            if value.isEmpty { bans.remove(ban) } else { bans.insert(ban) }
        default:
            return false
        }
        return true
    }

    /// What each field of `other` changes relative to these rules: the `(field, value)` pairs
    /// that turn self into other (an empty value removes).
    public func changes(to other: RoomRules) -> [(field: String, value: String)] {
        var changes: [(String, String)] = []
        if owner != other.owner { changes.append(("owner", other.owner?.encoded ?? "")) }
        if key != other.key { changes.append(("key", other.key ?? "")) }
        for ban in other.bans.subtracting(bans).sorted() { changes.append(("ban:" + ban, "1")) }
        for ban in bans.subtracting(other.bans).sorted() { changes.append(("ban:" + ban, "")) }
        return changes
    }

    /// The rule a ban's field suffix stands for, or nil when it is malformed.
    static func banRule(_ ban: String) -> BanRule? {
        if ban.hasPrefix("n:"), case let name = ban.dropFirst(2), NameRules.isValidName(name) { return .names([NameRules.fold(String(name))]) }
        if ban.hasPrefix("r:"), let range = AddressRange(ban.dropFirst(2)) { return .range(range) }
        return nil
    }

    /// Whether a field (with its value) is a ban being added: the nodes then remove the members
    /// it covers.
    public static func addsBan(field: String, value: String) -> Bool { field.hasPrefix("ban:") && !value.isEmpty }
}
