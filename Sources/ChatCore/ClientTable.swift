/// Every connected client by slot: its chat state, its wire style, and the indexes by name and
/// by address. The only place a `ClientState` changes, so a name is in `nameIndex` exactly
/// while it is its client's chosen name, and the counts match the states.
struct ClientTable {
    private var states: ContiguousArray<ClientState?> = []
    /// Parallel to `states`, so fan-out reads one byte per recipient instead of a whole state.
    private(set) var styles: ContiguousArray<WireStyle> = []
    private var nameIndex: [String: ClientID] = [:]
    /// Every client by its address name (`127.0.0.1:52056`), so a guest that never chose a name
    /// can be addressed by the name it is shown by. Kept for the life of the connection (an
    /// address never changes, and `/logout` makes it the name again); a lookup checks that it
    /// is still the client's name. Stored as the I/O layer wrote it (inet_ntop's lowercase).
    private var addressIndex: [String: ClientID] = [:]
    private var nextSerial: UInt64 = 0
    /// Clients currently connected.
    private(set) var count = 0
    /// Clients past the server password (all of them on a server without one).
    private(set) var authorisedCount = 0

    /// `id`'s slot when the table has one that far (it may still be empty).
    private func slot(of id: ClientID) -> Int? {
        let slot = Int(id.index)
        return slot < states.count ? slot : nil
    }

    subscript(id: ClientID) -> ClientState? { slot(of: id).flatMap { states[$0] } }

    /// The client's name, read in place (the hot path copies no state).
    func name(of id: ClientID) -> String? { slot(of: id).flatMap { states[$0]?.name } }

    /// The client's name and away message, read in place (a private message's reply).
    func nameAndAway(of id: ClientID) -> (name: String, away: String?)? {
        guard let slot = slot(of: id), let name = states[slot]?.name else { return nil }
        return (name, states[slot]?.away ?? nil)
    }

    /// Fields read in place for the connect path (no copy of the state).
    func isAuthorised(_ id: ClientID) -> Bool { slot(of: id).flatMap { states[$0]?.authorised } ?? false }
    func address(of id: ClientID) -> String? { slot(of: id).flatMap { states[$0]?.address } }
    func ip(of id: ClientID) -> IPAddress? { slot(of: id).flatMap { states[$0]?.ip } }
    func rooms(of id: ClientID) -> [Int]? { slot(of: id).flatMap { states[$0]?.rooms } }

    /// The room the client joined last (where its plain lines go), read in place.
    func currentRoom(of id: ClientID) -> Int? { slot(of: id).flatMap { states[$0]?.rooms.last } }

    /// The wire style `id` reads (native for a slot nobody holds).
    func style(of id: ClientID) -> WireStyle {
        let slot = Int(id.index)
        return slot < styles.count ? styles[slot] : .native
    }

    /// A client connected in slot `id`, speaking `dialect` and reading `style`; the slot must be free.
    mutating func add(_ id: ClientID, address: String, ip: IPAddress? = nil, authorised: Bool, dialect: DialectID = .native, style: WireStyle = .native) {
        let slot = Int(id.index)
        if slot >= states.count {
            let grow = slot + 1 - states.count
            states.append(contentsOf: repeatElement(nil, count: grow))
            styles.append(contentsOf: repeatElement(.native, count: grow))
        }
        precondition(states[slot] == nil, "client slot \(slot) connected twice")
        nextSerial += 1
        states[slot] = ClientState(address: address, ip: ip, serial: nextSerial, authorised: authorised, dialect: dialect)
        styles[slot] = style
        addressIndex[address] = id
        count += 1
        if authorised { authorisedCount += 1 }
    }

    /// The client left; its slot is free again. Returns what it was.
    @discardableResult
    mutating func remove(_ id: ClientID) -> ClientState? {
        guard let slot = slot(of: id), let state = states[slot].take() else { return nil }  // moved out, not copied
        if state.hasChosenName { nameIndex[NameRules.fold(state.name)] = nil }
        if state.authorised { authorisedCount -= 1 }
        if let entry = addressIndex.index(forKey: state.address), addressIndex.values[entry] == id { addressIndex.remove(at: entry) }  // one hash
        styles[slot] = .native
        count -= 1
        return state
    }

    /// The client currently shown as `name`: a chosen name, or the address name of a guest
    /// that has none. A client that has not given the server password is nobody's to address.
    func id(named name: String) -> ClientID? {
        if let id = nameIndex[NameRules.fold(name)] { return id }
        guard name.contains(":"), let id = addressIndex[NameRules.fold(name)], let state = self[id],
              !state.hasChosenName, state.authorised else { return nil }
        return id
    }

    /// The client connected from `address` (its address name), chosen name or not: a cluster's
    /// rules name a guest owner by its node and address.
    func id(atAddress address: String) -> ClientID? {
        guard let id = addressIndex[address], self[id]?.address == address else { return nil }
        return id
    }

    /// Gives the client `name`; `chosen` false means its address (a guest again). The name
    /// index follows. Returns the state before, or nil when there was nothing to change.
    mutating func rename(_ id: ClientID, to name: String, chosen: Bool) -> ClientState? {
        guard let old = self[id], old.name != name else { return nil }
        if old.hasChosenName { nameIndex[NameRules.fold(old.name)] = nil }
        if chosen { nameIndex[NameRules.fold(name)] = id }
        edit(id) {
            $0.name = name
            $0.hasChosenName = chosen
        }
        return old
    }

    mutating func admit(_ id: ClientID) {
        guard self[id]?.authorised == false else { return }
        edit(id) { $0.authorised = true }
        authorisedCount += 1
    }

    /// The client reads `style` from now on (a seed client's first line, an IRC capability).
    mutating func setStyle(_ id: ClientID, _ style: WireStyle) {
        guard self[id] != nil else { return }
        styles[Int(id.index)] = style
    }

    mutating func setAway(_ id: ClientID, _ text: String?) { edit(id) { $0.away = text } }

    mutating func logIn(_ id: ClientID, account: String?, isOperator: Bool) {
        edit(id) {
            $0.account = account
            $0.isOperatorLogin = isOperator
        }
    }

    /// What `Hub.receive` needs per line, read in place (no copy of the state): nil for a
    /// slot nobody holds.
    func lineState(of id: ClientID) -> (authInFlight: Bool, authorised: Bool, dialect: DialectID)? {
        guard let slot = slot(of: id), let authInFlight = states[slot]?.authInFlight, let authorised = states[slot]?.authorised,
              let dialect = states[slot]?.dialect else { return nil }
        return (authInFlight, authorised, dialect)
    }

    /// A line was taken: the run of rejected lines ends, and the first line is seen. Returns
    /// whether the first line had been seen before.
    /// One mutating call through the optional element, so the state is edited in place: reading
    /// `states[slot]?.sawFirstLine` first copied the whole state (a retain and release of each
    /// of its strings and arrays), per line said (measured: 2.2% of the fan-out's CPU).
    mutating func noteLine(_ id: ClientID) -> Bool {
        guard let slot = slot(of: id) else { return true }
        return states[slot]?.noteLine() ?? true
    }

    /// One more rejected line in a row; returns the run's length.
    mutating func countRejection(_ id: ClientID) -> Int {
        edit(id) { $0.rejectedInARow += 1 }
        return self[id]?.rejectedInARow ?? 0
    }

    /// One more wrong server password; returns how many so far.
    mutating func countPasswordFailure(_ id: ClientID) -> Int {
        edit(id) { $0.passwordFailures += 1 }
        return self[id]?.passwordFailures ?? 0
    }

    // MARK: Rooms, as the client sees them (the room table keeps the other side)

    mutating func joined(_ id: ClientID, room slot: Int) { edit(id) { $0.rooms.append(slot) } }

    mutating func left(_ id: ClientID, room slot: Int) { edit(id) { $0.rooms.removeAll { $0 == slot } } }

    /// Moves a quitting client's room list out of its state, so the quit walks the list while
    /// each room is left without the state sharing (and so copying) its buffer.
    mutating func takeRooms(_ id: ClientID) -> [Int] {
        guard let slot = slot(of: id) else { return [] }
        var rooms: [Int] = []
        states[slot]?.takeRooms(into: &rooms)
        return rooms
    }

    /// Makes an already-joined room current again.
    mutating func makeCurrent(_ id: ClientID, room slot: Int) {
        edit(id) {
            $0.rooms.removeAll { $0 == slot }
            $0.rooms.append(slot)
        }
    }

    // MARK: Password work and the input held meanwhile (PasswordFlow+HeldInput.swift)

    mutating func setAuthInFlight(_ id: ClientID, _ value: Bool) { edit(id) { $0.authInFlight = value } }

    /// Whether the client's input waits for a password command. Called per line, so it reads
    /// the one flag in place.
    func isHoldingInput(_ id: ClientID) -> Bool {
        slot(of: id).map { states[$0]?.authInFlight == true } ?? false
    }

    mutating func hold(_ event: LineFramer.Event, cost: Int, _ id: ClientID) {
        edit(id) {
            $0.heldInput.append(event)
            $0.heldInputBytes += cost
        }
    }

    /// Takes the held input out, leaving none.
    mutating func takeHeldInput(_ id: ClientID) -> [LineFramer.Event] {
        guard let held = self[id]?.heldInput, !held.isEmpty else { return [] }
        edit(id) {
            $0.heldInput = []
            $0.heldInputBytes = 0
        }
        return held
    }

    /// Puts events back in front of what is held, in order.
    mutating func holdAgain(_ events: ArraySlice<LineFramer.Event>, cost: Int, _ id: ClientID) {
        edit(id) {
            $0.heldInput = Array(events) + $0.heldInput
            $0.heldInputBytes += cost
        }
    }

    // MARK: Listing

    /// Up to `limit` admitted clients' names in connection-slot order, for `/users`: stops as
    /// soon as it has them.
    func someNames(_ limit: Int) -> [String] {
        var names: [String] = []
        for state in states where names.count < limit {
            if let state, state.authorised { names.append(state.name) }
        }
        return names
    }

    /// Every connected client, for bans and kills (rare, O(clients)).
    func allIDs() -> [ClientID] { states.indices.filter { states[$0] != nil }.map { ClientID($0) } }

    /// Every admitted client's slot, for server-wide notices.
    func forEachAdmitted(_ body: (ClientID, WireStyle) -> Void) {
        for slot in states.indices where states[slot]?.authorised == true { body(ClientID(slot), styles[slot]) }
    }

    private mutating func edit(_ id: ClientID, _ change: (inout ClientState) -> Void) {
        guard let slot = slot(of: id), states[slot] != nil else { return }
        change(&states[slot]!)
    }
}

/// One client's chat state, changed only by `ClientTable`. The address is the client's
/// identity until it picks a name.
struct ClientState {
    fileprivate(set) var name: String
    fileprivate(set) var hasChosenName = false
    let address: String
    /// Room slots in join order; the last one is the current room.
    fileprivate(set) var rooms: [Int] = []
    fileprivate(set) var away: String?
    fileprivate(set) var sawFirstLine = false
    fileprivate(set) var rejectedInARow = 0
    /// Tells this connection apart from a later one given the same slot (auth results).
    let serial: UInt64
    /// The protocol its lines are read in, chosen when it connected.
    let dialect: DialectID
    /// The IP address without the port, for bans and rate limits (made when asked: rarely).
    var host: String { String(ClientAddress.host(of: address)) }
    /// `host` parsed, for address bans (nil only for an address the I/O layer never makes).
    let ip: IPAddress?
    /// Passed the server password (always true on a server without one).
    fileprivate(set) var authorised: Bool
    fileprivate(set) var passwordFailures = 0
    /// The account logged in as (display name), if any.
    fileprivate(set) var account: String?
    /// Logged in with an operators-file password (not a database account's).
    fileprivate(set) var isOperatorLogin = false
    /// A password command of this client is unanswered (queued, hashing, or being stored):
    /// one at a time, and its later input waits in `heldInput` until the reply is sent.
    fileprivate(set) var authInFlight = false
    fileprivate(set) var heldInput: [LineFramer.Event] = []
    /// What `heldInput` is charged against `AuthLimits.maxHeldInputBytes`.
    fileprivate(set) var heldInputBytes = 0
    /// Where its password attempts are counted and queued (an IPv4 address or an IPv6 /64);
    /// made when a password command asks, not for every connection.
    var attemptSource: String { ip.map(ClientAddress.attemptSource(of:)) ?? host }

    /// See `ClientTable.takeRooms`.
    fileprivate mutating func takeRooms(into taken: inout [Int]) { swap(&taken, &rooms) }

    /// See `ClientTable.noteLine`.
    fileprivate mutating func noteLine() -> Bool {
        rejectedInARow = 0
        defer { sawFirstLine = true }
        return sawFirstLine
    }

    /// `ip`: the address's IP when the caller has it parsed already (the I/O layer does).
    init(address: String, ip: IPAddress? = nil, serial: UInt64 = 0, authorised: Bool = true, dialect: DialectID = .native) {
        self.name = address
        self.dialect = dialect
        self.address = address
        self.serial = serial
        self.ip = ip ?? IPAddress(ClientAddress.host(of: address))
        self.authorised = authorised
    }
}
