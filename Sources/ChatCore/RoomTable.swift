/// Every room by slot: membership, ownership, keys and bans, with the index by folded name and
/// the name order `/rooms` lists in. The only place a `Room` changes, so the index, the order
/// and the free slots always agree, and an emptied room (but a permanent one) is gone.
struct RoomTable {
    private var rooms: ContiguousArray<Room?> = []
    private var freeSlots: [Int] = []
    private var index: [String: Int] = [:]
    /// Every room's key in order, so `/rooms` costs O(what it shows), not a sort of all rooms.
    private var sortedKeys: [String] = []

    subscript(slot: Int) -> Room? { slot < rooms.count ? rooms[slot] : nil }

    /// Whether a room holds `slot` (read in place, no copy).
    func exists(_ slot: Int) -> Bool { slot < rooms.count && rooms[slot] != nil }

    /// A room's display name and folded key, for the hot path (no copy of the member list).
    func nameAndKey(_ slot: Int) -> (name: String, key: String)? {
        slot < rooms.count ? rooms[slot].map { ($0.name, $0.key) } : nil
    }

    /// Rooms that currently exist.
    var count: Int { index.count }

    /// A name already folded (most are: keys travel between nodes, and rooms are usually
    /// written in lower case) is found without folding it again: `fold` is idempotent, so a
    /// name that is a key is its own fold. This is on every remote line's path.
    func slot(named name: String) -> Int? { index[name] ?? index[NameRules.fold(name)] }

    /// The room's members for fan-out, and how many of them read a style other than native.
    func audience(_ slot: Int) -> (members: ContiguousArray<ClientID>, otherStyleMembers: Int)? {
        guard slot < rooms.count, let members = rooms[slot]?.members, let others = rooms[slot]?.otherStyleMembers else { return nil }
        return (members, others)
    }

    mutating func create(_ name: String, permanent: Bool = false) -> Int {
        let room = Room(name: name, key: NameRules.fold(name), isPermanent: permanent)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            rooms[slot] = room
        } else {
            slot = rooms.count
            rooms.append(room)
        }
        index[room.key] = slot
        sortedKeys.insert(room.key, at: insertionPoint(of: room.key))
        return slot
    }

    mutating func add(_ id: ClientID, native: Bool, to slot: Int) {
        edit(slot) { room in
            room.members.append(id)
            if !native { room.otherStyleMembers += 1 }
        }
    }

    /// Takes `id` out of the room (without notice). Returns the room when this emptied and
    /// deleted it, so its history can be parked or forgotten.
    mutating func remove(_ id: ClientID, native: Bool, from slot: Int) -> Room? {
        edit(slot) { room in
            if let position = room.members.firstIndex(of: id) {
                room.members.remove(at: position)
                if !native { room.otherStyleMembers -= 1 }
            }
            // A guest's ownership ends with its membership: its slot may later be someone else's.
            if room.ownerClient == id { room.ownerClient = nil }
        }
        guard slot < rooms.count, rooms[slot]?.members.isEmpty == true, rooms[slot]?.isPermanent == false,
              let room = rooms[slot].take() else { return nil }
        index[room.key] = nil
        let position = insertionPoint(of: room.key)
        if position < sortedKeys.count && sortedKeys[position] == room.key { sortedKeys.remove(at: position) }
        freeSlots.append(slot)
        return room
    }

    /// A member switched from the native style to another one (`nowNative` false) or back.
    mutating func memberChangedStyle(_ slot: Int, nowNative: Bool) { edit(slot) { $0.otherStyleMembers += nowNative ? -1 : 1 } }

    /// Sets the topic; `by` and `at` are kept for IRC's 333 (who set it, when).
    mutating func setTopic(_ topic: String, of slot: Int, by setter: String? = nil, at time: Double = 0) {
        edit(slot) { room in
            room.topic = topic
            room.topicSetBy = setter
            room.topicSetAt = time
        }
    }

    mutating func setKey(_ key: String?, of slot: Int) { edit(slot) { $0.joinKey = key } }

    /// Makes the room owned by an account (folded name) or, for a guest, by its connection.
    mutating func setOwner(account: String?, client: ClientID, of slot: Int) {
        edit(slot) { room in
            room.ownerAccount = account
            room.ownerClient = account == nil ? client : nil
            room.ownerElsewhere = nil
        }
    }

    /// Sets a room's rules as the cluster holds them (`RoomRules`): `ownerClient` is the local
    /// client a guest owner on this node is, `ownerElsewhere` a guest owner on another node.
    mutating func setRules(_ rules: RoomRules, ownerClient: ClientID?, ownerElsewhere: String?, of slot: Int) {
        edit(slot) { room in
            if case .account(let account) = rules.owner { room.ownerAccount = account } else { room.ownerAccount = nil }
            room.ownerClient = ownerClient
            room.ownerElsewhere = ownerElsewhere
            room.setKeyAndBans(rules)
        }
    }

    mutating func ban(_ target: BanRule, in slot: Int) {
        edit(slot) { room in
            switch target {
            case .names(let names): room.bannedNames.formUnion(names)
            case .range(let range): if !room.bannedRanges.contains(range) { room.bannedRanges.append(range) }
            }
        }
    }

    mutating func unban(_ target: BanRule, in slot: Int) {
        edit(slot) { room in
            switch target {
            case .names(let names): room.bannedNames.subtract(names)
            case .range(let range): room.bannedRanges.removeAll { $0 == range }
            }
        }
    }

    /// The first `limit` rooms in name order, for `/rooms`: O(limit).
    func first(_ limit: Int) -> [Room] {
        sortedKeys.prefix(limit).compactMap { key in index[key].flatMap { rooms[$0] } }
    }

    /// Edits the room in place: neither its member array nor its other fields are copied.
    private mutating func edit(_ slot: Int, _ change: (inout Room) -> Void) {
        guard slot < rooms.count, rooms[slot] != nil else { return }
        change(&rooms[slot]!)
    }

    /// Binary search in `sortedKeys`.
    private func insertionPoint(of key: String) -> Int {
        var low = 0, high = sortedKeys.count
        while low < high {
            let middle = (low + high) / 2
            if sortedKeys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// What a room ban or unban covers.
enum BanRule {
    case names(Set<String>)
    case range(AddressRange)
}

/// A room's state, changed only by `RoomTable`. Members are kept in join order; removal is a
/// linear scan, which costs ~10 µs in a 20,000-member room and only happens on part/quit,
/// never per message.
struct Room {
    /// Display name, as first created (`#Dev`); lookups use `NameRules.fold`.
    let name: String
    /// `NameRules.fold(name)`, computed once: the history book's key.
    let key: String
    fileprivate(set) var topic = ""
    /// Who set the topic and when (the loop's clock), for IRC's RPL_TOPICWHOTIME.
    fileprivate(set) var topicSetBy: String?
    fileprivate(set) var topicSetAt = 0.0
    fileprivate(set) var members: ContiguousArray<ClientID> = []
    /// How many members use a wire style other than native: when zero, fan-out renders once and skips the
    /// per-member style lookup.
    fileprivate(set) var otherStyleMembers = 0
    /// The default room outlives its last member; other rooms are deleted when they empty.
    let isPermanent: Bool
    /// The owner: an account (folded name) if the creator was logged in, else the creating
    /// connection for as long as it stays in the room. Nil: nobody owns it (the lobby).
    fileprivate(set) var ownerAccount: String?
    fileprivate(set) var ownerClient: ClientID?
    /// A guest owner connected to another node of the cluster (`node SPACE address`).
    fileprivate(set) var ownerElsewhere: String?
    /// Needed to `/join` (owners and operators need none).
    fileprivate(set) var joinKey: String?
    /// Folded names banned from the room.
    fileprivate(set) var bannedNames: Set<String> = []
    /// Addresses banned from the room (a guest's ban binds to its address; see `BanTarget`).
    fileprivate(set) var bannedRanges: [AddressRange] = []

    init(name: String, key: String, isPermanent: Bool) {
        self.name = name
        self.key = key
        self.isPermanent = isPermanent
    }

    /// A room that exists only on other nodes of a cluster, with the cluster's rules, for the
    /// checks of a `/join` that would create it here (it has no members on this node).
    static func elsewhere(name: String, rules: RoomRules, ownerElsewhere: String?) -> Room {
        var room = Room(name: name, key: NameRules.fold(name), isPermanent: false)
        if case .account(let account) = rules.owner { room.ownerAccount = account }
        room.ownerElsewhere = ownerElsewhere
        room.setKeyAndBans(rules)
        return room
    }

    /// The key and bans of the cluster's rules replace the room's.
    fileprivate mutating func setKeyAndBans(_ rules: RoomRules) {
        joinKey = rules.key
        bannedNames = []
        bannedRanges = []
        for ban in rules.bans.sorted() {
            switch RoomRules.banRule(ban) {
            case .names(let names): bannedNames.formUnion(names)
            case .range(let range): bannedRanges.append(range)
            case nil: break
            }
        }
    }

    var hasOwner: Bool { ownerAccount != nil || ownerClient != nil || ownerElsewhere != nil }

    /// Has access rules (a key or bans): its history lives no longer than the room does.
    var isProtected: Bool { joinKey != nil || !bannedNames.isEmpty || !bannedRanges.isEmpty }

    /// Whether the client owns the room: its creating connection, its account, or an operator.
    func isOwned(by id: ClientID, _ state: ClientState?, isOperator: Bool) -> Bool {
        if ownerClient == id || isOperator { return true }
        guard let ownerAccount, let account = state?.account else { return false }
        return NameRules.fold(account) == ownerAccount
    }

    /// Whether a room ban covers the client: its name, its account or its address. Owners and
    /// operators are never covered (the join check lets them in first).
    func bans(_ state: ClientState) -> Bool {
        if bannedNames.contains(NameRules.fold(state.name)) { return true }
        if let account = state.account, bannedNames.contains(NameRules.fold(account)) { return true }
        guard let ip = state.ip else { return false }
        return bannedRanges.contains { $0.contains(ip) }
    }
}
