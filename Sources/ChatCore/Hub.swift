/// The whole chat: names, rooms and routing, with no sockets and no clock of its own.
///
/// The I/O layer feeds it events ("client X connected" with its time, "sent this line" after
/// setting `now`, "left"), and it answers by queuing rendered bytes for recipients in `outbox`, which the
/// I/O layer flushes once per loop iteration. Every command gets exactly one reply or one
/// error; a plain line gets nothing back unless it fails.
///
/// The hub coordinates parts that each keep their own invariants: the client table (names,
/// styles, addresses), the room table (membership, ownership, keys, bans), the account book
/// (accounts, operators, server bans, password work), room history, and the router (the
/// render-once fan-out). Commands are data (`CommandTable`); their handlers live in the
/// `*Commands` files and reach the parts through the hub.
///
/// A client ends in one of two ways: `dismiss` (it leaves politely: its rooms hear why, and
/// the I/O layer closes it once what is queued for it is written; `expel` is a dismissal with
/// an error line first) or `disconnect` (the connection is already gone).
public final class Hub {
    var router = Router()
    var clients = ClientTable()
    var rooms = RoomTable()
    var accountBook = AccountBook()
    var roomHistory = RoomHistory()
    let commands: CommandTable
    public let limits: ChatLimits
    /// Where every client starts.
    public let defaultRoom: String
    /// The default room's slot: it is permanent, so the slot is its for the hub's life, and a
    /// joiner needs no lookup by name.
    var lobbySlot = 0
    /// Lines shown to each new client after the welcome; replaced on SIGHUP.
    public var motd: [String] = []
    /// Wall-clock seconds since the epoch. The I/O layer sets it before it hands the hub input,
    /// and `connect(_:address:at:)` sets it at accept: the core has no clock of its own.
    public var now: Double = 0
    /// Bytes a rendered history or list line costs besides its variable text, for charging a
    /// reply against the client's output limit before rendering it.
    static let renderedLineOverhead = 64
    /// Refreshed by the I/O layer for `/stats`.
    public var stats = ServerStats()
    /// Lines relayed (room lines and private messages), for the messages/s figure.
    public internal(set) var messagesRelayed: UInt64 = 0
    /// Running totals for the metrics endpoint (HubCounters.swift).
    public internal(set) var counters = HubCounters()
    /// Why each client that left the hub left, until the I/O layer closes its socket and
    /// takes the reason for its log line (`takeDeparture`).
    /// By client slot (an array, not a dictionary: one store and one load per connection).
    var departures: ContiguousArray<DisconnectReason?> = []
    /// Clients whose input started or stopped being held (PasswordFlow+HeldInput.swift), and clients
    /// whose reading should pause this many seconds (a wrong server password), until
    /// `takeEffects` hands them to the I/O layer.
    var inputHoldChanges: [ClientID] = []
    var pendingPenalties: [(ClientID, Double)] = []
    /// The other nodes' clients and what Redis must be told (Hub+Cluster.swift); nil on a
    /// single node.
    var cluster: ClusterView?
    /// Per IRC connection: registration, capabilities and ping state (IRCSession.swift).
    var ircSessions = IRCSessionTable()
    /// How long IRC clients may take to register and to answer a PING.
    public var ircTimeouts = IRCTimeouts()

    public convenience init(limits: ChatLimits = ChatLimits(), defaultRoom: String = "#lobby") {
        self.init(limits: limits, defaultRoom: defaultRoom, commands: .standard)
    }

    init(limits: ChatLimits, defaultRoom: String, commands: CommandTable) {
        precondition(NameRules.isValidRoom(Substring(defaultRoom)), "default room must be a valid room name")
        self.limits = limits
        self.defaultRoom = defaultRoom
        self.commands = commands
        lobbySlot = createRoom(defaultRoom, permanent: true)
    }

    // MARK: Connection events

    /// A client connected from `address` at `time` (the loop's clock), speaking `dialect`
    /// (chosen by the I/O layer from its first bytes): its dialect greets it (chatd's own
    /// protocol: the welcome line and the default room). The time is an argument because the
    /// address-ban check must not run on a clock that only the last line read has moved: on a
    /// quiet server that is stale, and an expired ban would go on refusing clients.
    ///
    /// `ip` is the address's IP as the I/O layer already has it; nil: parsed from `address`.
    public func connect(_ id: ClientID, address: String, ip: IPAddress? = nil, at time: Double, dialect: DialectID = .native) {
        now = time
        let speaking = dialect.dialect
        clients.add(id, address: address, ip: ip, authorised: accountBook.serverPassword == nil, dialect: dialect, style: speaking.style)
        counters.clientsByStyle[Int(speaking.style.index)] += 1
        router.outbox.register(id)
        speaking.connected(id, in: self)
    }

    /// Refuses a client whose address is banned (one error line, then the close); true if it was.
    /// Each dialect calls it when it connects a client, after its greeting.
    func refuseIfAddressBanned(_ id: ClientID) -> Bool {
        guard let ip = clients.ip(of: id), let ban = accountBook.activeAddressBan(covering: ip, now: now) else { return false }
        expel(id, .banned, "this address is banned from the server" + ban.suffix, reason: "banned")
        return true
    }

    /// A client left (socket closed, reset, cut by a limit). Its rooms hear `reason`; `cause` is
    /// what the metrics count. Calling it for a client that already quit does nothing.
    public func disconnect(_ id: ClientID, reason: String, cause: DisconnectReason = .reset) {
        // Fields read in place: a copy of the whole state costs a retain and release per field.
        guard let name = clients.name(of: id) else { return }
        if clients.isHoldingInput(id) { PasswordFlow.dropWork(self, of: id) }
        counters.disconnects[cause] &+= 1
        let slot = Int(id.index)
        if slot >= departures.count { departures.append(contentsOf: repeatElement(nil, count: slot + 1 - departures.count)) }
        departures[slot] = cause
        counters.clientsByStyle[Int(clients.style(of: id).index)] -= 1
        notifyRoomsOf(id, .notice(.quit(name: name, reason: reason)))
        if cluster != nil, let state = clients[id] { clusterQuit(state, reason: reason) }
        for slot in clients.takeRooms(id) { removeMember(id, fromRoom: slot) }
        clients.remove(id)
        if ircSessions[id] != nil { ircSessions[id] = nil }
    }

    /// The client leaves: its rooms hear `reason`, and the I/O layer closes it once what is
    /// queued for it (a goodbye, an error) has been written.
    public func dismiss(_ id: ClientID, reason: String, cause: DisconnectReason = .quit) {
        disconnect(id, reason: reason, cause: cause)
        router.outbox.requestClose(id)
    }

    /// Disconnects a client with one error line saying why (timeouts, flooding, limits).
    public func expel(_ id: ClientID, _ code: ErrorCode, _ text: String, reason: String) {
        guard clients[id] != nil else { return }
        send(.error(code, text), to: id)
        dismiss(id, reason: reason, cause: DisconnectReason(expelledWith: code))
    }

    /// Whether the client's input waits because a password command of its is unanswered
    /// (PasswordFlow+HeldInput.swift): the I/O layer frames none of it and keeps the socket unread.
    public func isHoldingInput(_ id: ClientID) -> Bool { clients.isHoldingInput(id) }

    /// Handles whatever the framer reported for `id`: a line, or something to refuse.
    public func handle(_ event: LineFramer.Event, from id: ClientID) {
        if case .line(let line) = event { receive(line, from: id) } else { reject(event, from: id) }
    }

    /// The framer dropped a line; tell its sender why.
    public func reject(_ event: LineFramer.Event, from id: ClientID) {
        guard let state = clients[id] else { return }  // it left (quit, junk) earlier in this read
        if state.authInFlight {
            PasswordFlow.hold(self, event, from: id)
            return
        }
        switch event {
        case .overlong:
            counters.linesTooLong &+= 1
            fail(id, .lineTooLong, "lines are limited to \(limits.maxLineBytes) bytes; that line was dropped")
            countRejection(from: id)
        case .invalidUTF8:
            counters.linesInvalidUTF8 &+= 1
            fail(id, .invalidUTF8, "lines must be UTF-8 text; that line was dropped")
            countRejection(from: id)
        case .telnetNegotiation(let verb, let option):
            answerTelnet(verb: verb, option: option, to: id)
        case .line, .telnetCommand:
            break
        }
    }

    /// A client that sends nothing but rejected lines is sending junk: after
    /// `maxRejectedLinesInARow` of them it is told why and disconnected.
    private func countRejection(from id: ClientID) {
        let count = clients.countRejection(id)
        if count >= limits.maxRejectedLinesInARow {
            fail(id, .junk, "\(count) invalid lines in a row; closing the connection")
            dismiss(id, reason: "sent junk", cause: .junk)
        }
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

    // MARK: Lines

    /// Handles one complete, sanitised line from `id`.
    public func receive(_ line: [UInt8], from id: ClientID) {
        guard let state = clients.lineState(of: id) else { return }
        counters.linesReceived &+= 1
        if state.authInFlight {
            PasswordFlow.hold(self, .line(line), from: id)
            return
        }
        let sawFirstLine = clients.noteLine(id)
        state.dialect.dialect.receive(line, from: id, isFirstLine: !sawFirstLine, admitted: state.authorised, in: self)
    }

    func isOperator(_ id: ClientID) -> Bool { accountBook.isOperator(clients[id]) }

    func isOwner(_ id: ClientID, of room: Room) -> Bool { room.isOwned(by: id, clients[id], isOperator: isOperator(id)) }

    /// The client's current display name, for logs.
    public func name(of id: ClientID) -> String? { clients[id]?.name }

    /// Clients currently connected.
    public var clientCount: Int { clients.count }
    /// Rooms that currently exist.
    public var roomCount: Int { rooms.count }
    /// Clients past the server password (all of them on a server without one).
    public var authorisedCount: Int { clients.authorisedCount }
}
