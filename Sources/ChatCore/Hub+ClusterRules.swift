/// Room ownership, keys, kicks and room bans across a cluster (`--cluster`).
///
/// One owner per fact: a room's rules live in Redis (`chatd:rules:<room>`, `RoomRules`'
/// fields), written by the node where they change and announced in the same Lua script on the
/// events channel, so every node's copy (`ClusterView.rules`, and the `Room` of a room with
/// members here) changes in the one order Redis publishes in. A `/join` is checked against
/// this node's copy, at once; a kick of a member on another node goes to that node, which
/// removes it and announces the kick as its own. A room's rules go when its last member on
/// the last node leaves (`ClusterScripts.roomClosed`), as a room's rules go with it on one node.
extension Hub {
    /// This node's rules of a room, in the cluster's terms.
    func clusterRules(ofSlot slot: Int) -> RoomRules? {
        guard let node = cluster?.node, let room = rooms[slot] else { return nil }
        var rules = RoomRules(key: room.joinKey)
        if let account = room.ownerAccount {
            rules.owner = .account(account)
        } else if let id = room.ownerClient, let state = clients[id] {
            rules.owner = .client(node: node, address: state.address)
        } else if let elsewhere = room.ownerElsewhere {
            let parts = elsewhere.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { rules.owner = .client(node: String(parts[0]), address: String(parts[1])) }
        }
        for name in room.bannedNames { rules.bans.insert("n:" + name) }
        for range in room.bannedRanges { rules.bans.insert("r:" + range.description) }
        return rules
    }

    /// The room a `/join` of `name` would enter when it has no member here but exists on
    /// another node (members there, or rules in Redis): its rules, for the join's checks.
    /// Nil on a single node, or when the join creates the room.
    func clusterRoom(named name: String) -> Room? {
        guard let view = cluster else { return nil }
        let key = NameRules.fold(name)
        let rules = view.rules[key]
        guard rules != nil || !view.members(ofRoom: key).isEmpty else { return nil }
        var elsewhere: String?
        if case .client(let node, let address) = rules?.owner, node != view.node { elsewhere = ClusterView.key(node, address) }
        return Room.elsewhere(name: name, rules: rules ?? RoomRules(), ownerElsewhere: elsewhere)
    }

    /// A room's rules changed here (created with an owner, a key, a ban, a new owner): every
    /// changed field is written to Redis and announced. The first rules of a room this node
    /// knew nothing of are written only if Redis has none (two nodes creating one room at
    /// once: the first in Redis keeps it).
    func clusterRulesChanged(_ slot: Int, by: String) {
        guard let room = rooms.nameAndKey(slot), let now = clusterRules(ofSlot: slot) else { return }
        let known = cluster?.rules[room.key]
        let changes = (known ?? RoomRules()).changes(to: now)
        guard !changes.isEmpty else { return }
        cluster?.rules[room.key] = now
        queueRules(room.name, changes, by: by, onlyIfNew: known == nil)
    }

    /// A guest owner is leaving a room here (part, kick, quit): its ownership ends on every
    /// node, as on one node. Queued before the room's close, so an emptied room's rules are
    /// cleared after it.
    func clusterOwnerLeaves(_ slot: Int, name: String) {
        guard let room = rooms.nameAndKey(slot), cluster?.rules[room.key]?.owner != nil else { return }
        cluster?.rules[room.key]?.owner = nil
        queueRule(room.name, field: "owner", value: "", by: name)
    }

    /// Makes `remote` (a member on another node) the room's owner: the heir's node learns it
    /// from the announcement.
    func clusterHandOver(_ slot: Int, to remote: ClusterView.RemoteClient, by: String) {
        guard let room = rooms.nameAndKey(slot) else { return }
        let owner = RoomRules.Owner.client(node: remote.node, address: remote.address)
        if cluster?.rules[room.key] == nil { cluster?.rules[room.key] = clusterRules(ofSlot: slot) }
        cluster?.rules[room.key]?.owner = owner
        applyClusterRules(slot)
        queueRule(room.name, field: "owner", value: owner.encoded, by: by)
    }

    private func queueRule(_ room: String, field: String, value: String, by: String) {
        queueRules(room, [(field, value)], by: by, onlyIfNew: false)
    }

    /// One script call for all the fields, so a room created with an owner, a key and bans is
    /// taken by Redis whole or not at all (one field at a time, the first made the room known
    /// and the only-if-new check then refused the rest).
    private func queueRules(_ room: String, _ changes: [(field: String, value: String)], by: String, onlyIfNew: Bool) {
        guard let node = cluster?.node, !changes.isEmpty else { return }
        let writes = changes.map { change in
            RuleWrite(field: change.field, value: change.value,
                      announce: ClusterMessage.rule(node: node, room: room, by: by.isEmpty ? node : by, field: change.field, value: change.value).encoded())
        }
        let key = NameRules.fold(room)
        // A change in the iteration that created the room joins the creation's write, so Redis
        // takes it with the creation or refuses it with it: sent on its own, it would overwrite
        // the rules of the node whose creation of the room came first.
        if !onlyIfNew, let pending = cluster?.commands.lastIndex(where: { if case .setRules(key, _, true) = $0 { true } else { false } }),
           case .setRules(_, let earlier, _)? = cluster?.commands[pending] {
            cluster?.commands[pending] = .setRules(room: key, changes: earlier + writes, onlyIfNew: true)
            return
        }
        cluster?.commands.append(.setRules(room: key, changes: writes, onlyIfNew: onlyIfNew))
    }

    /// The member of a room called `name` on another node, if there is one.
    func remoteMember(named name: String, ofRoom key: String) -> ClusterView.RemoteClient? {
        remoteMembers(ofRoom: key).first { NameRules.fold($0.name) == NameRules.fold(name) }
    }

    /// Asks the node of a remote member to kick it; that node announces the kick to all.
    func clusterKick(_ target: ClusterView.RemoteClient, room: String, by: String, reason: String) {
        guard let node = cluster?.node else { return }
        publishCluster(ClusterKeys.nodeChannel(target.node), .kick(node: node, room: room, name: target.name, by: by, reason: reason))
    }

    /// A local member was removed from a room by its owner or a ban: the other nodes update
    /// its membership and show the kick notice.
    func clusterKicked(_ id: ClientID, name: String, room: String, by: String, reason: String) {
        guard let node = cluster?.node, let state = clients[id] else { return }
        cluster?.commands.append(.record(address: state.address, ClientRecord(name: state.name, rooms: state.rooms.compactMap { rooms.nameAndKey($0)?.name })))
        publishCluster(ClusterKeys.eventsChannel, .kicked(node: node, address: state.address, name: name, room: room, by: by, reason: reason))
    }

    func publishCluster(_ channel: String, _ message: ClusterMessage) {
        cluster?.commands.append(.publish(channel: channel, payload: message.encoded()))
    }

    /// Sets a local room's rules from the cluster's copy.
    func applyClusterRules(_ slot: Int) {
        guard let view = cluster, let room = rooms[slot] else { return }
        let rules = view.rules[room.key] ?? RoomRules()
        var ownerClient: ClientID?
        var elsewhere: String?
        if case .client(let node, let address) = rules.owner {
            if node == view.node {
                ownerClient = clients.id(atAddress: address).flatMap { room.members.contains($0) ? $0 : nil }
            } else {
                elsewhere = ClusterView.key(node, address)
            }
        }
        rooms.setRules(rules, ownerClient: ownerClient, ownerElsewhere: elsewhere, of: slot)
        if let changed = rooms[slot], changed.isProtected != room.isProtected { roomHistory.accessChanged(changed, wasProtected: room.isProtected) }
    }

    // MARK: What the other nodes say

    /// A `.rule` from another node (or from Redis: `*` clears a room that emptied everywhere).
    func clusterRuleReceived(room name: String, by: String, field: String, value: String) {
        let key = NameRules.fold(name)
        if field == RoomRules.clearField {
            cluster?.rules[key] = nil
        } else {
            var rules = cluster?.rules[key] ?? RoomRules()
            guard rules.apply(field: field, value: value) else { return }
            cluster?.rules[key] = rules
        }
        guard let slot = rooms.slot(named: name) else { return }
        applyClusterRules(slot)
        if RoomRules.addsBan(field: field, value: value) { removeBannedMembers(slot, by: by) }
    }

    /// Removes the local members a room's bans now cover (owners and operators excepted);
    /// returns their names.
    @discardableResult
    func removeBannedMembers(_ slot: Int, by: String) -> [String] {
        guard let room = rooms[slot] else { return [] }
        var removed: [String] = []
        for member in room.members where !isOwner(member, of: room) {
            guard let state = clients[member], room.bans(state) else { continue }
            OwnerCommands.remove(self, member, fromRoom: slot, by: by, why: "banned")
            removed.append(state.name)
        }
        return removed
    }

    /// Another node asks this one to kick a local member out of a room.
    func clusterKickReceived(room name: String, name target: String, by: String, reason: String) {
        guard let slot = rooms.slot(named: name), let id = clients.id(named: target), rooms[slot]?.members.contains(id) == true else { return }
        OwnerCommands.remove(self, id, fromRoom: slot, by: by, why: reason)
    }

    /// A member of another node was removed from a room: membership and notice.
    func clusterKickedReceived(node: String, address: String, name: String, room: String, by: String, reason: String) {
        cluster?.left(node: node, address: address, room: room)
        guard let slot = rooms.slot(named: room) else { return }
        deliverLocally(.notice(.kicked(room: room, name: name, by: by, reason: reason, toVictim: false)), toRoom: slot, isNotice: true)
    }

    /// A node is gone: rooms it owned through a guest's connection have no owner any more
    /// (its heartbeat's cleanup removes the field in Redis).
    func clusterOwnersLost(node: String) {
        guard let view = cluster else { return }
        for (key, rules) in view.rules {
            guard case .client(let owner, _) = rules.owner, owner == node else { continue }
            cluster?.rules[key]?.owner = nil
            if let slot = rooms.slot(named: key) { applyClusterRules(slot) }
        }
    }

    /// Every room's rules, read from Redis when this node (re)joins: they replace this node's
    /// copy. A room with members here that Redis has no rules for gets this node's (it was
    /// created while Redis was away).
    public func clusterAllRules(_ all: [(room: String, fields: [(field: String, value: String)])]) {
        guard cluster != nil else { return }
        var read: [String: RoomRules] = [:]
        for (room, fields) in all { read[room] = RoomRules(fields: fields) }
        let mine = rooms.first(Int.max).map { ($0.key, rooms.slot(named: $0.key)) }
        cluster?.rules = read
        for (key, slot) in mine {
            guard let slot else { continue }
            if read[key] != nil { applyClusterRules(slot) } else { clusterRulesChanged(slot, by: cluster?.node ?? "") }
        }
    }

    /// One room's rules as Redis has them, after this node's creation of it was refused
    /// (another node created it first): they replace this node's.
    ///
    /// Its members here joined checked against no rules (this node did not know the room yet:
    /// it had just started, or the other node's creation had not reached it), so they are
    /// checked now: one the room's bans cover, or any but its owner when it has a key, is
    /// removed and told why (it may join again, with the key).
    public func clusterRulesRead(room key: String, fields: [(field: String, value: String)]) {
        guard cluster != nil else { return }
        cluster?.rules[key] = RoomRules(fields: fields)
        guard let slot = rooms.slot(named: key) else { return }
        applyClusterRules(slot)
        guard let room = rooms[slot] else { return }
        for member in room.members where !isOwner(member, of: room) {
            guard let state = clients[member] else { continue }
            if room.bans(state) {
                OwnerCommands.remove(self, member, fromRoom: slot, by: Self.rulesArrivedLate, why: "banned")
            } else if room.joinKey != nil {
                OwnerCommands.remove(self, member, fromRoom: slot, by: Self.rulesArrivedLate, why: "it has a key: /join \(room.name) KEY")
            }
        }
    }

    /// Who removes the members a room's late-arriving rules do not let in.
    static let rulesArrivedLate = "chatd"

    // MARK: Server bans

    /// A server ban made on another node: kept, and every local client it covers is
    /// disconnected, as on the node where it was made.
    func clusterServerBanReceived(_ ban: ServerBan) {
        accountBook.serverBans[ban.target] = ban
        let range = ban.isAddress ? AddressRange(ban.target[...]) : nil
        if ban.isAddress && range == nil { return }  // not an address: matches nobody
        _ = OperatorCommands.expelCovered(self, by: ban, range: range, except: nil)
    }

    /// Every server ban of the cluster, read from Redis (`chatd:bans`) when this node joins:
    /// they replace this node's, and the clients they cover are disconnected.
    public func clusterBans(_ bans: [ServerBan]) {
        guard cluster != nil else { return }
        accountBook.serverBans = Dictionary(bans.map { ($0.target, $0) }, uniquingKeysWith: { first, _ in first })
        for ban in bans where ban.until.map({ $0 > now }) ?? true {
            let range = ban.isAddress ? AddressRange(ban.target[...]) : nil
            if !ban.isAddress || range != nil { _ = OperatorCommands.expelCovered(self, by: ban, range: range, except: nil) }
        }
    }
}
