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

    init(address: String) {
        self.name = address
        self.address = address
    }
}
