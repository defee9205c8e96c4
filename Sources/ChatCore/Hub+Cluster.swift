/// The hub as one node of a cluster (`--cluster`): what it tells the other nodes, through the
/// commands the cluster link takes once per loop iteration, and what it does with what they
/// tell it. Without `joinCluster` none of this runs and the hub is the single-node hub.
///
/// Local clients stay in the hub's own tables; remote ones live in `ClusterView`. Local
/// delivery of a remote line is the same render-once fan-out as a local line: one publish per
/// line leaves this node, and one render per style per receiving node comes back out.
extension Hub {
    /// Makes this hub a node called `node`: every room it has from now on is subscribed.
    public func joinCluster(node: String) {
        cluster = ClusterView(node: node)
        clusterResync()
    }

    /// Whether the hub is a cluster node.
    public var isClustered: Bool { cluster != nil }

    /// Takes what Redis must be told, in order.
    public func takeClusterCommands() -> [ClusterCommand] {
        guard cluster?.commands.isEmpty == false else { return [] }
        var taken: [ClusterCommand] = []
        swap(&taken, &cluster!.commands)
        return taken
    }

    /// Everything Redis must hold for this node, for (re)connecting: its room subscriptions,
    /// its clients' names and records, and a hello so the others read them. Queued at once;
    /// the link sends them on its new connection.
    public func clusterResync() {
        let commands = resyncCommands()  // computed first: it reads the view it is stored in
        cluster?.commands = commands
    }

    private func resyncCommands() -> [ClusterCommand] {
        guard let node = cluster?.node else { return [] }
        var commands: [ClusterCommand] = rooms.first(Int.max).flatMap { [ClusterCommand.subscribe(room: $0.key), .roomOpened(room: $0.key)] }
        for id in clients.allIDs() {
            guard let state = clients[id], state.authorised else { continue }
            if state.hasChosenName { commands.append(.claim(name: NameRules.fold(state.name))) }
            commands.append(.record(address: state.address, record(of: state)))
        }
        // Accounts and server bans this node had before it joined (its database's) are offered
        // (the cluster's copy wins), then the cluster's are read: they live in Redis from here
        // on (`RedisAccounts` stores every change there).
        for (key, account) in accountBook.accounts { commands.append(.offerAccount(key: key, account)) }
        for ban in accountBook.serverBans.values { commands.append(.offerBan(ban)) }
        commands.append(.fetchAccounts)
        commands.append(.fetchBans)
        commands.append(.fetchRules)
        // History reads that went out on a connection that was lost are asked again (a second
        // answer for one room finds no read waiting and is dropped).
        for room in (cluster?.historyLoads.keys).map(Array.init) ?? [] { commands.append(.readHistory(room: room)) }
        commands.append(.publish(channel: ClusterKeys.eventsChannel, payload: ClusterMessage.hello(node: node).encoded()))
        return commands
    }

    private func record(of state: ClientState) -> ClientRecord {
        ClientRecord(name: state.name, rooms: state.rooms.compactMap { rooms.nameAndKey($0)?.name })
    }

    private func publish(_ channel: String, _ message: ClusterMessage) {
        cluster?.commands.append(.publish(channel: channel, payload: message.encoded()))
    }

    // MARK: Hooks the hub calls (Hub+Membership.swift, Hub.swift)

    /// A room was created here: subscribe to it, count this node among its nodes, and give it
    /// the rules the cluster has for it (it may exist on other nodes).
    func clusterRoomOpened(_ key: String, slot: Int) {
        guard cluster != nil else { return }
        cluster?.commands.append(.subscribe(room: key))
        cluster?.commands.append(.roomOpened(room: key))
        if cluster?.rules[key] != nil { applyClusterRules(slot) }
        clusterStartHistoryRead(key)
    }

    /// The last local member left a room: unsubscribe, and if no node has members any more its
    /// rules go (announced by Redis itself, as node `*`, so this node hears it too).
    func clusterRoomClosed(_ key: String, name: String) {
        guard cluster != nil else { return }
        cluster?.commands.append(.unsubscribe(room: key))
        let announce = ClusterMessage.rule(node: ClusterKeys.redisAsNode, room: name, by: ClusterKeys.redisAsNode, field: RoomRules.clearField, value: "").encoded()
        cluster?.commands.append(.roomClosed(room: key, announce: announce))
    }

    /// A room heard `message` from a local client (or the server): the other nodes hear it too.
    /// The room is named by the message where it has one: a `/part` that emptied the room
    /// here has already deleted its slot.
    func clusterRelay(_ message: Outgoing, toRoom slot: Int, subject: ClientID?) {
        guard let node = cluster?.node else { return }
        func channel(_ room: String) -> String { ClusterKeys.roomChannel(NameRules.fold(room)) }
        switch message {
        case .chat(let room, let from, let text):
            publish(channel(room), .chat(node: node, room: room, from: from, text: text))
        case .action(let room, let from, let text):
            publish(channel(room), .action(node: node, room: room, from: from, text: text))
        case .notice(.topic(let room, let by, let text)):
            publish(channel(room), .topic(node: node, room: room, by: by, text: text))
        case .notice(.server(let text)):
            guard let room = rooms.nameAndKey(slot)?.name else { return }
            publish(channel(room), .roomNotice(node: node, room: room, text: text))
        case .notice(.joined(let name, let room)):
            guard let subject, let state = clients[subject] else { return }
            cluster?.commands.append(.record(address: state.address, record(of: state)))
            publish(ClusterKeys.eventsChannel, .joined(node: node, address: state.address, name: name, room: room))
        case .notice(.left(let name, let room, let reason)):
            guard let subject, let state = clients[subject] else { return }
            cluster?.commands.append(.record(address: state.address, record(of: state)))
            publish(ClusterKeys.eventsChannel, .left(node: node, address: state.address, name: name, room: room, reason: reason ?? ""))
        default: break
        }
    }

    /// A local client changed its name: claim the new one (a refusal renames it back to its
    /// address), give up the old one, and tell the other nodes.
    func clusterRenamed(_ id: ClientID, old: ClientState, to name: String, chosen: Bool, firstName: Bool) {
        guard let node = cluster?.node, let state = clients[id] else { return }
        if chosen { cluster?.commands.append(.claim(name: NameRules.fold(name))) }
        if old.hasChosenName { cluster?.commands.append(.release(name: NameRules.fold(old.name))) }
        cluster?.commands.append(.record(address: state.address, record(of: state)))
        publish(ClusterKeys.eventsChannel, .renamed(node: node, address: state.address, old: old.name, new: name, firstName: firstName))
    }

    /// A local client left the server.
    func clusterQuit(_ state: ClientState, reason: String) {
        guard let node = cluster?.node, state.authorised else { return }
        if state.hasChosenName { cluster?.commands.append(.release(name: NameRules.fold(state.name))) }
        cluster?.commands.append(.record(address: state.address, nil))
        publish(ClusterKeys.eventsChannel, .quit(node: node, address: state.address, name: state.name, reason: reason))
    }

    /// A private message to `name`, who is not a local client: sent to its node when the
    /// cluster knows it. Returns the name as shown, or nil (nobody of that name).
    func clusterPrivateMessage(to name: String, from sender: String, _ text: ArraySlice<UInt8>) -> String? {
        guard let node = cluster?.node, let target = cluster?.client(named: name) else { return nil }
        publish(ClusterKeys.nodeChannel(target.node), .privateMessage(node: node, from: sender, to: target.name, text: text))
        return target.name
    }

    // MARK: What the other nodes say

    /// A payload from Redis pub/sub (bytes, untrusted): one `ClusterBatch` of messages, each
    /// applied in order, or dropped when it is malformed or this node's own.
    public func clusterReceived(_ payload: ArraySlice<UInt8>) {
        ClusterBatch.forEachRecord(in: payload) { clusterReceivedRecord($0) }
    }

    private func clusterReceivedRecord(_ payload: ArraySlice<UInt8>) {
        guard let own = cluster?.node else { return }
        guard let message = ClusterMessage.decode(payload) else {
            cluster?.malformed &+= 1
            return
        }
        guard message.node != own else { return }
        switch message {
        case .chat(_, let room, let from, let text): remoteLine(.chat, room: room, from: from, text: text)
        case .action(_, let room, let from, let text): remoteLine(.action, room: room, from: from, text: text)
        case .topic(_, let room, let by, let text):
            guard let slot = rooms.slot(named: room), let known = rooms.nameAndKey(slot) else { return }
            rooms.setTopic(text, of: slot)
            remember(.topic, room: known.name, key: known.key, sender: by, text: ArraySlice(text.utf8), said: false)
            deliverLocally(.notice(.topic(room: known.name, by: by, text: text)), toRoom: slot)
        case .roomNotice(_, let room, let text):
            guard let slot = rooms.slot(named: room) else { return }
            deliverLocally(.notice(.server(text)), toRoom: slot, isNotice: true)
        case .joined(let node, let address, let name, let room):
            cluster?.joined(node: node, address: address, name: name, room: room)
            if let slot = rooms.slot(named: room) { deliverLocally(.notice(.joined(name: name, room: room)), toRoom: slot, isNotice: true) }
        case .left(let node, let address, let name, let room, let reason):
            cluster?.left(node: node, address: address, room: room)
            if let slot = rooms.slot(named: room) {
                deliverLocally(.notice(.left(name: name, room: room, reason: reason.isEmpty ? nil : reason)), toRoom: slot, isNotice: true)
            }
        case .renamed(let node, let address, let old, let new, let firstName):
            guard let before = cluster?.renamed(node: node, address: address, to: new) else { return }
            notifyRoomsOfRemote(before.rooms, .notice(.renamed(old: old, new: new, firstName: firstName)))
        case .quit(let node, let address, let name, let reason):
            guard let gone = cluster?.quit(node: node, address: address) else { return }
            notifyRoomsOfRemote(gone.rooms, .notice(.quit(name: name, reason: reason)))
        case .hello(let node):
            cluster?.hello(from: node)
            cluster?.commands.append(.fetchRecords(node: node))
        case .account(_, let key, let name, let hash):
            accountBook.accounts[key] = Account(name: name, hash: hash)
        case .rule(_, let room, let by, let field, let value): clusterRuleReceived(room: room, by: by, field: field, value: value)
        case .kick(_, let room, let name, let by, let reason): clusterKickReceived(room: room, name: name, by: by, reason: reason)
        case .kicked(let node, let address, let name, let room, let by, let reason):
            clusterKickedReceived(node: node, address: address, name: name, room: room, by: by, reason: reason)
        case .serverBan(_, let ban): clusterServerBanReceived(ban)
        case .serverUnban(_, let target): accountBook.serverBans[target] = nil
        case .privateMessage(_, let from, let to, let text):
            guard let target = clients.id(named: to) else { return }  // gone meanwhile: at most once
            send(.privateMessage(from: from, text: text), to: target)
            messagesRelayed &+= 1
        }
    }

    private func remoteLine(_ kind: HistoryEntry.Kind, room: String, from: String, text: ArraySlice<UInt8>) {
        guard let slot = rooms.slot(named: room), let known = rooms.nameAndKey(slot) else { return }
        let message: Outgoing = kind == .action ? .action(room: known.name, from: from, text: text) : .chat(room: known.name, from: from, text: text)
        deliverLocally(message, toRoom: slot)
        messagesRelayed &+= 1
        remember(kind, room: known.name, key: known.key, sender: from, text: text, said: false)
    }

    /// The fan-out to this node's members only (no publish: it came from another node).
    func deliverLocally(_ message: Outgoing, toRoom slot: Int, isNotice: Bool = false) {
        guard let (members, otherStyleMembers) = rooms.audience(slot) else { return }
        if isNotice && members.count > limits.noticeRoomLimit { return }
        router.broadcast(message, to: members, otherStyleMembers: otherStyleMembers, styles: clients.styles, except: nil)
    }

    /// A remote client's notice, once to every local client sharing one of `roomNames`.
    private func notifyRoomsOfRemote(_ roomNames: [String], _ message: Outgoing) {
        let slots = roomNames.compactMap { rooms.slot(named: $0) }
        guard !slots.isEmpty else { return }
        router.notifyOnce(message, about: nil, styles: clients.styles) { visit in
            for slot in slots {
                if let members = rooms.audience(slot)?.members, members.count <= limits.noticeRoomLimit { visit(members) }
            }
        }
    }

    /// The nodes whose leases are live, from the heartbeat: every client of a node not among
    /// them quits with `(node lost)`.
    public func clusterNodesAlive(_ live: Set<String>) {
        guard let view = cluster else { return }
        for node in view.nodes where !live.contains(node) && node != view.node {
            guard let gone = cluster?.dropNode(node) else { continue }
            clusterOwnersLost(node: node)
            for client in gone { notifyRoomsOfRemote(client.rooms, .notice(.quit(name: client.name, reason: "node lost"))) }
        }
    }

    /// A node's client records, read from Redis: merged with what its events said
    /// (`ClusterView.merge`).
    public func clusterRecords(node: String, _ records: [(address: String, record: ClientRecord)]) {
        guard cluster != nil, node != cluster?.node else { return }
        cluster?.merge(node: node, records: records)
    }

    /// Every account of the cluster, read from Redis (`chatd:accounts`): they replace this
    /// node's copies, so `/register` on one node is a `/login` on every other.
    public func clusterAccounts(_ accounts: [(key: String, account: Account)]) {
        for (key, account) in accounts where NameRules.fold(account.name) == key { accountBook.accounts[key] = account }
    }

    /// Redis refused this node a name (folded) a local client took: another node holds it.
    /// The client is told and goes back to its address (the deterministic loser of a race).
    public func clusterClaimRefused(_ name: String) {
        guard let id = clients.id(named: name), let state = clients[id], state.hasChosenName,
              NameRules.fold(state.name) == name else { return }
        fail(id, .nickInUse, "\(state.name) is taken on another node; you are \(state.address) again")
        rename(id, to: state.address, chosen: false)
    }

    // MARK: Listings (RoomCommands, IdentityCommands)

    /// Remote members of a room, by folded key (none on a single node).
    func remoteMembers(ofRoom key: String) -> [ClusterView.RemoteClient] { cluster?.members(ofRoom: key) ?? [] }
}
