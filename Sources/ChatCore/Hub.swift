/// The whole chat: names, rooms and routing, with no sockets and no clock.
///
/// The I/O layer feeds it events ("client X connected", "sent this line", "left") and it
/// answers by queuing rendered bytes for recipients in `outbox`, which the I/O layer flushes
/// once per loop iteration. Every command gets exactly one reply or one error; a plain line gets
/// nothing back unless it fails. A room message is rendered once per wire style present in the
/// room and every recipient's queue references those same bytes.
public final class Hub {
    /// Bytes queued this iteration; the I/O layer flushes and resets it.
    public var outbox = Outbox()
    public let limits: ChatLimits
    /// Where every client starts.
    public let defaultRoom: String
    /// Lines shown to each new client after the welcome; replaced on SIGHUP.
    public var motd: [String] = []
    /// The latest lines of each room (nil: history is off, nothing is kept or replayed).
    public var history: HistoryBook?
    /// Lines replayed on join (0: none; `/history` still answers).
    public var historyReplayLines = HistoryBook.defaultReplayLines
    /// Whether remembered lines are also queued in `pendingHistory` for the database.
    public var persistsHistory = false
    /// Lines said since the I/O layer last took them for the database writer.
    public var pendingHistory: [HistoryEntry] = []
    /// What `pendingHistory` holds in memory (`HistoryEntry.bytesInMemory` summed).
    public var pendingHistoryBytes = 0
    /// The number of the hand-over batch `pendingHistory` will go out in, and the newest batch
    /// the writer has finished with: a parked ring may leave memory only once its batch is
    /// durable. Without a writer every batch counts as durable.
    public var historyBatch: UInt64 = 1
    public internal(set) var historyDurableBatch: UInt64 = .max
    /// Protected rooms forgotten in a batch the writer may not have finished: not read back.
    var forgottenRoomBatches: [String: UInt64] = [:]
    /// Rooms whose stored history must be protected or forgotten, in order with the lines.
    public var pendingRoomChanges: [PendingRoomChange] = []
    /// Reads a room's latest lines from the store (folded name → oldest first) when a room is
    /// created and its ring is not in memory; nil when history is in memory only.
    public var historyLoader: ((String) -> [HistoryEntry])?
    /// Bytes a rendered history or list line costs besides its variable text, for charging a
    /// reply against the client's output limit before rendering it.
    static let renderedLineOverhead = 64
    /// Wall-clock seconds since the epoch, set by the I/O layer before it hands over input; the
    /// core has no clock of its own.
    public var now: Double = 0

    // Accounts and moderation (Hub+Accounts.swift, Hub+Moderation.swift).
    /// Registered accounts by folded name.
    public var accounts: [String: Account] = [:]
    /// Folded names reserved for server operators (`--operators`) besides those in
    /// `operatorAccounts`: nobody can register, take or log in as them.
    public var operators: Set<String> = []
    /// Operator accounts from the operators file, by folded name: their names are reserved and
    /// a login as one is checked against the file's hash, never a database account.
    public var operatorAccounts: [String: Account] = [:]
    /// Checks a `/pass` attempt (constant-time, in the I/O layer); nil: no server password.
    public var serverPassword: (@Sendable ([UInt8]) -> Bool)?
    /// A real hash of a random password: `/login` to a name that does not exist verifies
    /// against it, so the answer takes as long as for a real account and the timing does not
    /// tell which names are registered.
    public var decoyHash = ""
    public var authLimits = AuthLimits()
    /// Password work waiting for the hashing thread, in fair order (`nextPasswordJob`).
    var passwordQueue = PasswordQueue()
    /// Account and ban changes for the database writer.
    public var pendingAccountChanges: [AccountChange] = []
    /// Whether a database stores accounts: then `/register` and `/passwd` answer only once
    /// their change is committed (`pendingAccountWrites`, `accountWriteFinished`).
    public var confirmsAccountWrites = false
    /// Account changes whose clients wait for the commit, for the database writer.
    public var pendingAccountWrites: [AccountWrite] = []
    /// Account writes handed to the database, by ticket, until `accountWriteFinished`.
    var awaitingStore: [UInt64: PendingAccountWrite] = [:]
    var nextTicket: UInt64 = 0
    /// Clients whose input started or stopped being held (Hub+HeldInput.swift): the I/O layer
    /// pauses or resumes reading each as `isHoldingInput` says, then clears this.
    public var inputHoldChanges: [ClientID] = []
    /// Clients whose reading should pause this many seconds (wrong server password).
    public var pendingPenalties: [(ClientID, Double)] = []
    /// Server-wide bans by target (folded name, or an address or range in canonical text).
    public var serverBans: [String: ServerBan] = [:] {
        didSet { addressBans = AddressBanIndex(serverBans) }
    }
    /// The address bans in `serverBans`, parsed.
    var addressBans = AddressBanIndex()
    /// Refreshed by the I/O layer for `/stats`.
    public var stats = ServerStats()
    /// Lines relayed (room lines and private messages), for the messages/s figure.
    public internal(set) var messagesRelayed: UInt64 = 0
    /// Running totals for the metrics endpoint (HubCounters.swift).
    public internal(set) var counters = HubCounters()
    /// Why each client that left the hub left, until the I/O layer closes its socket and
    /// takes the reason for its log line (`takeDeparture`).
    var departures: [ClientID: DisconnectReason] = [:]
    var attemptBuckets: [String: TokenBucket] = [:]
    /// Names whose registration is being hashed, so two clients cannot register one name.
    var registering: Set<String> = []
    var nextSerial: UInt64 = 0

    private var clients: ContiguousArray<ClientState?> = []
    /// Parallel to `clients`, so fan-out reads one byte per recipient instead of a whole state.
    private var styles: ContiguousArray<WireStyle> = []
    /// Parallel to `clients`: marks recipients already notified, so someone sharing several rooms
    /// with a renamed or departing client hears about it once.
    private var visitStamps: ContiguousArray<UInt32> = []
    private var stamp: UInt32 = 0
    private var nameIndex: [String: ClientID] = [:]
    /// Every client by its address name (`127.0.0.1:52056`), so a guest that never chose a name
    /// can be addressed by the name it is shown by. Kept for the life of the connection (an
    /// address never changes, and `/logout` makes it the name again); a lookup checks that it
    /// is still the client's name. Stored as the I/O layer wrote it (inet_ntop's lowercase).
    private var addressIndex: [String: ClientID] = [:]
    private var rooms: ContiguousArray<Room?> = []
    private var freeRoomSlots: [Int] = []
    private var roomIndex: [String: Int] = [:]
    /// Every room's key in order, so `/rooms` costs O(what it shows), not a sort of all rooms.
    private var sortedRoomKeys: [String] = []

    /// Clients currently connected.
    public private(set) var clientCount = 0
    /// Rooms that currently exist.
    public var roomCount: Int { roomIndex.count }
    /// Clients past the server password (all of them on a server without one).
    public internal(set) var authorisedCount = 0

    public init(limits: ChatLimits = ChatLimits(), defaultRoom: String = "#lobby") {
        precondition(NameRules.isValidRoom(Substring(defaultRoom)), "default room must be a valid room name")
        self.limits = limits
        self.defaultRoom = defaultRoom
        _ = createRoom(defaultRoom, permanent: true)
    }

    // MARK: Connection events

    /// A client connected from `address`: it joins the default room and is welcomed.
    public func connect(_ id: ClientID, address: String) {
        let slot = Int(id.index)
        if slot >= clients.count {
            let grow = slot + 1 - clients.count
            clients.append(contentsOf: repeatElement(nil, count: grow))
            styles.append(contentsOf: repeatElement(.native, count: grow))
            visitStamps.append(contentsOf: repeatElement(0, count: grow))
        }
        precondition(clients[slot] == nil, "client slot \(slot) connected twice")
        nextSerial += 1
        clients[slot] = ClientState(address: address, serial: nextSerial, authorised: serverPassword == nil)
        styles[slot] = .native
        addressIndex[address] = id
        outbox.register(id)
        clientCount += 1
        if serverPassword == nil { authorisedCount += 1 }
        // Before the server password a client is in no room: the welcome must not say otherwise.
        let room = serverPassword == nil ? defaultRoom : "no room until /pass"
        send(.notice(.welcome(name: address, room: room, maxLineBytes: limits.maxLineBytes)), to: id)
        if let ip = clients[slot]?.ip, let ban = activeAddressBan(covering: ip) {
            expel(id, .banned, "this address is banned from the server" + banSuffix(ban), reason: "banned")
            return
        }
        if serverPassword != nil {
            send(.notice(.server("this server needs a password: send /pass PASSWORD")), to: id)
            return
        }
        enterLobby(id)
    }

    /// Puts an admitted client in the default room, with the MOTD and the room's history.
    func enterLobby(_ id: ClientID) {
        let lobby = roomIndex[NameRules.fold(defaultRoom)] ?? createRoom(defaultRoom, permanent: true)
        for line in motd { send(.notice(.server(line)), to: id) }
        addMember(id, toRoom: lobby)
        if let room = room(lobby) { _ = replay(room, count: historyReplayLines, to: id, fitting: true) }
    }

    /// A client left (socket closed, reset, cut by a limit). Its rooms hear `reason`; `cause` is
    /// what the metrics count. Calling it for a client that already quit does nothing.
    public func disconnect(_ id: ClientID, reason: String, cause: DisconnectReason = .reset) {
        guard let state = client(id) else { return }
        if state.authInFlight { dropPasswordWork(of: id) }
        counters.disconnects[cause] &+= 1
        departures[id] = cause
        if styles[Int(id.index)] == .seed { counters.seedClients -= 1 }
        notifyRoomsOf(id, .notice(.quit(name: state.name, reason: reason)))
        for slot in state.rooms { removeMember(id, fromRoom: slot) }
        if state.hasChosenName { nameIndex[NameRules.fold(state.name)] = nil }
        if state.authorised { authorisedCount -= 1 }
        if addressIndex[state.address] == id { addressIndex[state.address] = nil }
        clients[Int(id.index)] = nil
        styles[Int(id.index)] = .native
        clientCount -= 1
    }

    /// Whether the client's input waits because a password command of its is unanswered
    /// (Hub+HeldInput.swift): the I/O layer frames none of it and keeps the socket unread.
    /// Called per line, so it reads the one flag in place.
    public func isHoldingInput(_ id: ClientID) -> Bool {
        let slot = Int(id.index)
        return slot < clients.count && clients[slot]?.authInFlight == true
    }

    /// The framer dropped a line; tell its sender why.
    public func reject(_ event: LineFramer.Event, from id: ClientID) {
        guard let state = client(id) else { return }  // it left (quit, junk) earlier in this read
        if state.authInFlight {
            hold(event, from: id)
            return
        }
        switch event {
        case .overlong:
            counters.linesTooLong &+= 1
            send(.error(.lineTooLong, "lines are limited to \(limits.maxLineBytes) bytes; that line was dropped"), to: id)
            countRejection(from: id)
        case .invalidUTF8:
            counters.linesInvalidUTF8 &+= 1
            send(.error(.invalidUTF8, "lines must be UTF-8 text; that line was dropped"), to: id)
            countRejection(from: id)
        case .telnetNegotiation(let verb, let option):
            answerTelnet(verb: verb, option: option, to: id)
        case .line, .telnetCommand:
            break
        }
    }

    /// Handles whatever the framer reported for `id`: a line, or something to refuse.
    public func handle(_ event: LineFramer.Event, from id: ClientID) {
        if case .line(let line) = event { receive(line, from: id) } else { reject(event, from: id) }
    }

    /// The client leaves: its rooms hear `reason`, and the I/O layer closes it once what is
    /// queued for it (a goodbye, an error) has been written.
    public func dismiss(_ id: ClientID, reason: String, cause: DisconnectReason = .quit) {
        disconnect(id, reason: reason, cause: cause)
        outbox.requestClose(id)
    }

    /// A client that sends nothing but rejected lines is sending junk: after
    /// `maxRejectedLinesInARow` of them it is told why and disconnected.
    private func countRejection(from id: ClientID) {
        let slot = Int(id.index)
        guard slot < clients.count, let count = clients[slot]?.rejectedInARow else { return }
        clients[slot]?.rejectedInARow = count + 1
        if count + 1 >= limits.maxRejectedLinesInARow {
            send(.error(.junk, "\(count + 1) invalid lines in a row; closing the connection"), to: id)
            dismiss(id, reason: "sent junk", cause: .junk)
        }
    }

    /// Disconnects a client with one error line saying why (timeouts, flooding, limits).
    public func expel(_ id: ClientID, _ code: ErrorCode, _ text: String, reason: String) {
        guard client(id) != nil else { return }
        send(.error(code, text), to: id)
        dismiss(id, reason: reason, cause: DisconnectReason(expelledWith: code))
    }

    /// Refuses every telnet option: DO → WONT, WILL → DONT. Telnet after Ctrl-C sends
    /// `DO TIMING-MARK` and discards all output until it is answered.
    private func answerTelnet(verb: UInt8, option: UInt8, to id: ClientID) {
        let iac: UInt8 = 255, will: UInt8 = 251, wont: UInt8 = 252, doVerb: UInt8 = 253, dont: UInt8 = 254
        switch verb {
        case doVerb: send(.raw([iac, wont, option]), to: id)
        case will: send(.raw([iac, dont, option]), to: id)
        default: break  // WONT/DONT acknowledge a refusal; answering them could loop.
        }
    }

    /// Sends a server notice to every admitted client (operator announcements, shutdown) and
    /// returns how many got it. A client that has not given the server password sees nothing.
    @discardableResult
    public func announce(_ text: String) -> Int {
        let message = Outgoing.notice(.server(text))
        var native: Outbox.MessageHandle?
        var seed: Outbox.MessageHandle?
        var recipients = 0
        for slot in clients.indices where clients[slot]?.authorised == true {
            let id = ClientID(slot)
            outbox.deliver(handle(message, style: styles[slot], native: &native, seed: &seed), to: id)
            recipients += 1
        }
        return recipients
    }

    /// The wire style `id` reads.
    func style(of id: ClientID) -> WireStyle { styles[Int(id.index)] }

    /// Sends `message` to one client only, rendered in its style.
    public func send(_ message: Outgoing, to id: ClientID) {
        let style = styles[Int(id.index)]
        outbox.deliver(outbox.publish { style.render(message, into: &$0) }, to: id)
    }

    /// The client's current display name, for logs.
    public func name(of id: ClientID) -> String? {
        let slot = Int(id.index)
        return slot < clients.count ? clients[slot]?.name : nil
    }

    func roomName(_ slot: Int) -> String? { rooms[slot]?.name }

    /// A room's display name and folded key, for the hot path (no copy of the member list).
    func roomNameAndKey(_ slot: Int) -> (String, String)? { rooms[slot].map { ($0.name, $0.key) } }

    // MARK: Lines

    /// Handles one complete, sanitised line from `id`.
    public func receive(_ line: [UInt8], from id: ClientID) {
        let slot = Int(id.index)
        guard slot < clients.count, let sawFirstLine = clients[slot]?.sawFirstLine else { return }
        counters.linesReceived &+= 1
        if clients[slot]?.authInFlight == true {
            hold(.line(line), from: id)
            return
        }
        if clients[slot]?.rejectedInARow != 0 { clients[slot]?.rejectedInARow = 0 }
        if !sawFirstLine && HTTPRequest.isRequestLine(line) {
            send(.raw(HTTPRequest.response), to: id)
            dismiss(id, reason: "sent an HTTP request", cause: .http)
            return
        }
        // Seed words are commands only on a connection that chose the seed protocol with its
        // first line; on a native connection `LEAVE: brb` is chat.
        let context: CommandParser.Context = !sawFirstLine ? .firstLine : (styles[slot] == .seed ? .seed : .native)
        let parsed = CommandParser.parse(line, context: context)
        if !sawFirstLine {
            clients[slot]?.sawFirstLine = true
            if parsed.isSeedSyntax { switchToSeedStyle(id, rooms: clients[slot]?.rooms ?? []) }
        }
        if clients[slot]?.authorised == false && !Self.allowedBeforePassword(parsed.command) {
            send(.error(.passwordRequired, "this server needs a password: send /pass PASSWORD first"), to: id)
            return
        }
        execute(parsed.command, from: id)
    }

    private func switchToSeedStyle(_ id: ClientID, rooms slots: [Int]) {
        styles[Int(id.index)] = .seed
        counters.seedClients += 1
        for slot in slots { rooms[slot]?.seedMembers += 1 }
    }

    // MARK: Helpers shared by the command handlers (Hub+Commands.swift)

    func client(_ id: ClientID) -> ClientState? {
        let slot = Int(id.index)
        return slot < clients.count ? clients[slot] : nil
    }

    func update(_ id: ClientID, _ change: (inout ClientState) -> Void) {
        let slot = Int(id.index)
        guard slot < clients.count, clients[slot] != nil else { return }
        change(&clients[slot]!)
    }

    func room(_ slot: Int) -> Room? { slot < rooms.count ? rooms[slot] : nil }

    func roomSlot(named name: String) -> Int? { roomIndex[NameRules.fold(name)] }

    /// The client currently shown as `name`: a chosen name, or the address name of a guest
    /// that has none. A client that has not given the server password is nobody's to address.
    func clientID(named name: String) -> ClientID? {
        if let id = nameIndex[NameRules.fold(name)] { return id }
        guard name.contains(":"), let id = addressIndex[NameRules.fold(name)], let state = client(id),
              !state.hasChosenName, state.authorised else { return nil }
        return id
    }

    func claimName(_ name: String, for id: ClientID, replacing old: String?) {
        if let old { nameIndex[NameRules.fold(old)] = nil }
        nameIndex[NameRules.fold(name)] = id
    }

    func nameIndex(remove name: String) { nameIndex[NameRules.fold(name)] = nil }

    /// The first `limit` rooms in name order, for `/rooms`: O(limit).
    func firstRooms(_ limit: Int) -> [Room] {
        sortedRoomKeys.prefix(limit).compactMap { key in roomIndex[key].flatMap { rooms[$0] } }
    }

    /// Up to `limit` admitted clients' names in connection-slot order, for `/users`: stops as
    /// soon as it has them.
    func someNames(_ limit: Int) -> [String] {
        var names: [String] = []
        for state in clients where names.count < limit {
            if let state, state.authorised { names.append(state.name) }
        }
        return names
    }

    /// Every connected client, for bans and kills (rare, O(clients)).
    func allClientIDs() -> [ClientID] { clients.indices.filter { clients[$0] != nil }.map { ClientID($0) } }

    func updateRoom(_ slot: Int, _ change: (inout Room) -> Void) {
        guard slot < rooms.count, rooms[slot] != nil else { return }
        change(&rooms[slot]!)
    }

    func createRoom(_ name: String, permanent: Bool = false) -> Int {
        let room = Room(name: name, key: NameRules.fold(name), isPermanent: permanent)
        let slot: Int
        if let free = freeRoomSlots.popLast() {
            slot = free
            rooms[slot] = room
        } else {
            slot = rooms.count
            rooms.append(room)
        }
        roomIndex[room.key] = slot
        sortedRoomKeys.insert(room.key, at: insertionPoint(of: room.key))
        historyRoomCreated(key: room.key)
        return slot
    }

    /// Binary search in `sortedRoomKeys`.
    private func insertionPoint(of key: String) -> Int {
        var low = 0, high = sortedRoomKeys.count
        while low < high {
            let middle = (low + high) / 2
            if sortedRoomKeys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func setTopic(_ topic: String, ofRoom slot: Int, by name: String) {
        rooms[slot]?.topic = topic
        if let room = rooms[slot] { remember(.topic, room: room.name, key: room.key, sender: name, text: ArraySlice(topic.utf8)) }
    }

    /// Adds `id` to a room, makes it current, and tells the others.
    func addMember(_ id: ClientID, toRoom slot: Int) {
        guard let state = client(id), var room = rooms[slot] else { return }
        rooms[slot] = nil  // Take the room out while editing so its member array is not copied.
        room.members.append(id)
        if styles[Int(id.index)] == .seed { room.seedMembers += 1 }
        rooms[slot] = room
        update(id) { $0.rooms.append(slot) }
        broadcast(.notice(.joined(name: state.name, room: room.name)), toRoom: slot, except: id, isNotice: true)
    }

    /// Removes `id` from a room (deleting an emptied room) without any notice.
    func removeMember(_ id: ClientID, fromRoom slot: Int) {
        guard var room = rooms[slot] else { return }
        rooms[slot] = nil
        if let position = room.members.firstIndex(of: id) {
            room.members.remove(at: position)
            if styles[Int(id.index)] == .seed { room.seedMembers -= 1 }
        }
        // A guest's ownership ends with its membership: its slot may later be someone else's.
        if room.ownerClient == id { room.ownerClient = nil }
        update(id) { state in state.rooms.removeAll { $0 == slot } }
        if room.members.isEmpty && !room.isPermanent {
            roomIndex[room.key] = nil
            let position = insertionPoint(of: room.key)
            if position < sortedRoomKeys.count && sortedRoomKeys[position] == room.key { sortedRoomKeys.remove(at: position) }
            freeRoomSlots.append(slot)
            historyRoomDeleted(room)
        } else {
            rooms[slot] = room
        }
    }

    /// Makes an already-joined room current again.
    func makeCurrent(_ slot: Int, for id: ClientID) {
        update(id) { state in
            state.rooms.removeAll { $0 == slot }
            state.rooms.append(slot)
        }
    }

    /// The fan-out: renders `message` once per style present and queues it for every member of
    /// the room but `sender`. Notices are skipped in rooms above `noticeRoomLimit`.
    func broadcast(_ message: Outgoing, toRoom slot: Int, except sender: ClientID?, isNotice: Bool = false) {
        guard let members = rooms[slot]?.members, let seedMembers = rooms[slot]?.seedMembers else { return }
        if isNotice && members.count > limits.noticeRoomLimit { return }
        if members.count == 1 && members[0] == sender { return }
        let native = outbox.publish { WireStyle.native.render(message, into: &$0) }
        if seedMembers == 0 {
            outbox.deliver(native, toAll: members, except: sender)
            return
        }
        let seed = outbox.publish { WireStyle.seed.render(message, into: &$0) }
        for member in members where member != sender {
            outbox.deliver(styles[Int(member.index)] == .seed ? seed : native, to: member)
        }
    }

    /// Sends a notice about `id` once to everyone sharing a room with it (not to `id` itself).
    func notifyRoomsOf(_ id: ClientID, _ message: Outgoing) {
        guard let state = client(id) else { return }
        stamp &+= 1
        if stamp == 0 {  // Wrapped: clear old marks so none looks current.
            for index in visitStamps.indices { visitStamps[index] = 0 }
            stamp = 1
        }
        visitStamps[Int(id.index)] = stamp
        var native: Outbox.MessageHandle?
        var seed: Outbox.MessageHandle?
        for slot in state.rooms {
            guard let room = rooms[slot], room.members.count <= limits.noticeRoomLimit else { continue }
            for member in room.members where visitStamps[Int(member.index)] != stamp {
                visitStamps[Int(member.index)] = stamp
                outbox.deliver(handle(message, style: styles[Int(member.index)], native: &native, seed: &seed), to: member)
            }
        }
    }

    /// Renders `message` in `style` the first time that style is needed, then reuses the bytes.
    private func handle(_ message: Outgoing, style: WireStyle, native: inout Outbox.MessageHandle?, seed: inout Outbox.MessageHandle?) -> Outbox.MessageHandle {
        switch style {
        case .native:
            if let native { return native }
            let rendered = outbox.publish { WireStyle.native.render(message, into: &$0) }
            native = rendered
            return rendered
        case .seed:
            if let seed { return seed }
            let rendered = outbox.publish { WireStyle.seed.render(message, into: &$0) }
            seed = rendered
            return rendered
        }
    }
}
