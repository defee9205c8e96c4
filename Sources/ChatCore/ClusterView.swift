/// Where one node keeps what it knows of the other nodes' clients: who is connected where,
/// under which name, in which rooms. Built from the events channel (`ClusterMessage`) and the
/// nodes' client records in Redis, and dropped node by node when a node's lease lapses.
///
/// One owner per fact: a local client's name and rooms live in the hub's own tables; a remote
/// client's live here, and nowhere is the same client kept twice. Name *ownership* lives in
/// Redis (`ClusterCommand.claim`); this view only answers "who is called that" for routing and
/// listings, and the claim decides a race.
public struct ClusterView {
    /// A client connected to another node.
    public struct RemoteClient: Equatable {
        public var node: String
        public var address: String
        public var name: String
        /// Room display names, in join order.
        public var rooms: [String]
    }

    /// This node's name (`--node-name`).
    public let node: String
    /// Remote clients by `node SPACE address`.
    private(set) var clients: [String: RemoteClient] = [:]
    /// Folded name → client key.
    private var byName: [String: String] = [:]
    /// Folded room → client keys of remote members, in join order.
    private(set) var roomMembers: [String: [String]] = [:]
    /// What the I/O layer must do in Redis, in order (`Hub.takeClusterCommands`).
    var commands: [ClusterCommand] = []
    /// Payloads that did not decode (another version, or not chatd's): dropped and counted.
    public internal(set) var malformed: UInt64 = 0
    /// Every room's rules in the cluster (folded room → rules), rooms without a member here
    /// included, so a `/join` is checked at once: kept from the `.rule` announcements and read
    /// whole from Redis when this node (re)joins. A room with local members also holds them in
    /// its `Room` (the hub's checks read that), set from here on every change.
    var rules: [String: RoomRules] = [:]
    /// Rooms (folded) whose stream is being read, with the joiners waiting for it
    /// (Hub+ClusterHistory.swift).
    var historyLoads: [String: Hub.HistoryLoad] = [:]
    /// Whether room history lives in Redis streams (`Hub.clusterOwnsHistory`).
    var keepsHistory = false
    /// Nodes heard from (events or records), so a lapse can be noticed.
    private(set) var nodes: Set<String> = []
    /// Counts changes: each remote client remembers the count of its last event (`touched`),
    /// and a node's hello the count it came at, so records read after a hello can tell a
    /// client that left (not in the records, no event since the hello) from one whose events
    /// are newer than the records.
    private var changes: UInt64 = 0
    private var touched: [String: UInt64] = [:]
    private var helloAt: [String: UInt64] = [:]

    public init(node: String) { self.node = node }

    static func key(_ node: String, _ address: String) -> String { node + " " + address }

    /// The remote client called `name` (folded compare), if any.
    func client(named name: String) -> RemoteClient? { byName[NameRules.fold(name)].flatMap { clients[$0] } }

    /// Remote members of a room (folded key), in join order.
    func members(ofRoom key: String) -> [RemoteClient] { (roomMembers[key] ?? []).compactMap { clients[$0] } }

    /// Every remote client, for `/users`.
    var all: Dictionary<String, RemoteClient>.Values { clients.values }

    var count: Int { clients.count }

    /// Remote rooms (folded key → display name and remote member count), for `/rooms`.
    func rooms() -> [(key: String, name: String, members: Int)] {
        roomMembers.compactMap { key, members in
            guard let first = members.first, let client = clients[first],
                  let name = client.rooms.first(where: { NameRules.fold($0) == key }) else { return nil }
            return (key, name, members.count)
        }
    }

    // MARK: Changes

    /// `node` said hello (it started, or came back to Redis): its records are read next.
    mutating func hello(from node: String) {
        changes += 1
        helloAt[node] = changes
    }

    private mutating func touch(_ key: String) {
        changes += 1
        touched[key] = changes
    }

    mutating func joined(node: String, address: String, name: String, room: String) {
        nodes.insert(node)
        let key = Self.key(node, address)
        touch(key)
        if clients[key] == nil { add(RemoteClient(node: node, address: address, name: name, rooms: [])) }
        guard var client = clients[key], !client.rooms.contains(where: { NameRules.fold($0) == NameRules.fold(room) }) else { return }
        client.rooms.append(room)
        clients[key] = client
        roomMembers[NameRules.fold(room), default: []].append(key)
    }

    mutating func left(node: String, address: String, room: String) {
        let key = Self.key(node, address)
        touch(key)
        guard var client = clients[key] else { return }
        let roomKey = NameRules.fold(room)
        client.rooms.removeAll { NameRules.fold($0) == roomKey }
        clients[key] = client
        removeMembership(key, roomKey)
    }

    /// Returns the client as it was, or nil when unknown.
    @discardableResult
    mutating func renamed(node: String, address: String, to name: String) -> RemoteClient? {
        let key = Self.key(node, address)
        touch(key)
        guard let old = clients[key] else {
            add(RemoteClient(node: node, address: address, name: name, rooms: []))
            return nil
        }
        if byName[NameRules.fold(old.name)] == key { byName[NameRules.fold(old.name)] = nil }
        clients[key]?.name = name
        byName[NameRules.fold(name)] = key
        return old
    }

    /// Removes a client; returns it as it was.
    @discardableResult
    mutating func quit(node: String, address: String) -> RemoteClient? {
        let key = Self.key(node, address)
        touched[key] = nil
        guard let client = clients.removeValue(forKey: key) else { return nil }
        if byName[NameRules.fold(client.name)] == key { byName[NameRules.fold(client.name)] = nil }
        for room in client.rooms { removeMembership(key, NameRules.fold(room)) }
        return client
    }

    /// Forgets every client of `node`; returns them (for their quit notices).
    mutating func dropNode(_ node: String) -> [RemoteClient] {
        nodes.remove(node)
        helloAt[node] = nil
        let gone = clients.values.filter { $0.node == node }
        for client in gone { quit(node: node, address: client.address) }
        return gone
    }

    /// Merges `node`'s records (address → record), silently. The records were read on the
    /// command connection and events arrive on the subscriber connection, so either may be
    /// newer: a client already known keeps what its events said, an unknown one is added as
    /// recorded, and after a hello a known client that is not in the records and had no event
    /// since the hello is gone (the node restarted without it).
    mutating func merge(node: String, records: [(address: String, record: ClientRecord)]) {
        nodes.insert(node)
        let recorded = Set(records.map { Self.key(node, $0.address) })
        if let hello = helloAt.removeValue(forKey: node) {
            for client in clients.values where client.node == node {
                let key = Self.key(node, client.address)
                if !recorded.contains(key) && (touched[key] ?? 0) < hello { quit(node: node, address: client.address) }
            }
        }
        for (address, record) in records where clients[Self.key(node, address)] == nil {
            add(RemoteClient(node: node, address: address, name: record.name, rooms: []))
            for room in record.rooms { joined(node: node, address: address, name: record.name, room: room) }
        }
    }

    private mutating func add(_ client: RemoteClient) {
        let key = Self.key(client.node, client.address)
        clients[key] = client
        byName[NameRules.fold(client.name)] = key
        nodes.insert(client.node)
    }

    private mutating func removeMembership(_ key: String, _ roomKey: String) {
        roomMembers[roomKey]?.removeAll { $0 == key }
        if roomMembers[roomKey]?.isEmpty == true { roomMembers[roomKey] = nil }
    }
}

/// What the hub asks of Redis, taken once per loop iteration by the cluster link
/// (`Hub.takeClusterCommands`). Nothing per recipient: one publish per line, whatever the
/// number of members or nodes.
public enum ClusterCommand: Equatable, Sendable {
    /// PUBLISH a message on a channel.
    case publish(channel: String, payload: [UInt8])
    /// This node has members in a room (folded) now: it counts among the room's nodes.
    case roomOpened(room: String)
    /// This node's last member left a room (folded): if it was the room's last node, its rules
    /// go, and `announce` (a `.rule` clearing them) is published by the same script.
    case roomClosed(room: String, announce: [UInt8])
    /// Sets (an empty value: removes) fields of a room's rules hash, each with its announcement
    /// published by the same script. `onlyIfNew`: all of them only if the room has no rules yet
    /// (a node creating a room, or offering the rules it kept through an outage), else none,
    /// and the rules Redis has come back through `Hub.clusterRulesRead`.
    case setRules(room: String, changes: [RuleWrite], onlyIfNew: Bool)
    /// Read a room's (folded) latest lines from its stream and hand them to
    /// `Hub.clusterHistoryRead` (nil when Redis does not answer).
    case readHistory(room: String)
    /// Read every room's rules and hand them to `Hub.clusterAllRules`.
    case fetchRules
    /// This node now has local members in a room (folded): SUBSCRIBE its channel.
    case subscribe(room: String)
    /// This node has no local member left in a room: UNSUBSCRIBE.
    case unsubscribe(room: String)
    /// Claim a chosen name (folded) for this node, atomically; a refusal comes back as
    /// `Hub.clusterClaimRefused`.
    case claim(name: String)
    /// Give up a name (folded) this node claimed.
    case release(name: String)
    /// Store (or, nil, delete) this node's record of the client at `address`.
    case record(address: String, ClientRecord?)
    /// Offer an account this node had before it joined (`HSETNX`: the cluster's copy wins).
    /// Changes made in the cluster are stored by the account storage (`RedisAccounts`).
    case offerAccount(key: String, Account)
    /// Read every account of the cluster and hand them to `Hub.clusterAccounts`.
    case fetchAccounts
    /// Offer a server ban this node had before it joined (`HSETNX`).
    case offerBan(ServerBan)
    /// Read every server ban of the cluster and hand them to `Hub.clusterBans`.
    case fetchBans
    /// Read a node's client records (it said hello) and hand them to `Hub.clusterRecords`.
    case fetchRecords(node: String)
}

/// One field of a room's rules as written to Redis, with the announcement of the change.
public struct RuleWrite: Equatable, Sendable {
    public var field: String
    /// Empty: the field is removed.
    public var value: String
    public var announce: [UInt8]
}
