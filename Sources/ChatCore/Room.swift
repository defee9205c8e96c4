/// A room's state. Members are kept in join order; removal is a linear scan, which costs ~10 µs
/// in a 20,000-member room and only happens on part/quit, never per message.
struct Room {
    /// Display name, as first created (`#Dev`); lookups use `NameRules.fold`.
    let name: String
    /// `NameRules.fold(name)`, computed once: the history book's key.
    let key: String
    var topic = ""
    var members: ContiguousArray<ClientID> = []
    /// How many members use the seed wire style: when zero, fan-out renders once and skips the
    /// per-member style lookup.
    var seedMembers = 0
    /// The default room outlives its last member; other rooms are deleted when they empty.
    let isPermanent: Bool
    /// The owner: an account (folded name) if the creator was logged in, else the creating
    /// connection for as long as it stays in the room. Nil: nobody owns it (the lobby).
    var ownerAccount: String?
    var ownerClient: ClientID?
    /// Needed to `/join` (owners and operators need none).
    var joinKey: String?
    /// Folded names banned from the room.
    var bannedNames: Set<String> = []
    /// Addresses banned from the room (a guest's ban binds to its address; see `BanTarget`).
    var bannedRanges: [AddressRange] = []

    init(name: String, key: String, isPermanent: Bool) {
        self.name = name
        self.key = key
        self.isPermanent = isPermanent
    }

    var hasOwner: Bool { ownerAccount != nil || ownerClient != nil }

    /// Has access rules (a key or bans): its history lives no longer than the room does.
    var isProtected: Bool { joinKey != nil || !bannedNames.isEmpty || !bannedRanges.isEmpty }
}

/// One client's chat state. The address is the client's identity until it picks a name.
struct ClientState {
    var name: String
    var hasChosenName = false
    let address: String
    /// Room slots in join order; the last one is the current room.
    var rooms: [Int] = []
    var away: String?
    var sawFirstLine = false
    var rejectedInARow = 0
    /// Tells this connection apart from a later one given the same slot (auth results).
    let serial: UInt64
    /// The IP address without the port, for bans and rate limits.
    let host: String
    /// `host` parsed, for address bans (nil only for an address the I/O layer never makes).
    let ip: IPAddress?
    /// Passed the server password (always true on a server without one).
    var authorised: Bool
    var passwordFailures = 0
    /// The account logged in as (display name), if any.
    var account: String?
    /// Logged in with an operators-file password (not a database account's).
    var isOperatorLogin = false
    /// A password command of this client is unanswered (queued, hashing, or being stored):
    /// one at a time, and its later input waits in `heldInput` until the reply is sent.
    var authInFlight = false
    var heldInput: [LineFramer.Event] = []
    /// What `heldInput` is charged against `AuthLimits.maxHeldInputBytes`.
    var heldInputBytes = 0
    /// Where its password attempts are counted and queued (an IPv4 address or an IPv6 /64).
    let attemptSource: String

    init(address: String, serial: UInt64 = 0, authorised: Bool = true) {
        self.name = address
        self.address = address
        self.serial = serial
        self.host = String(ClientAddress.host(of: address))
        self.ip = IPAddress(ClientAddress.host(of: address))
        self.attemptSource = ip.map(ClientAddress.attemptSource(of:)) ?? host
        self.authorised = authorised
    }
}
