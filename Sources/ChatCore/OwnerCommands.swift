/// Room protection: keys, kicks, room bans and handing a room over.
///
/// Permission rules, in one place:
/// - A room's owner is its creator: the account it was logged in as, or — for a guest — that
///   connection while it stays in the room. The default room has no owner.
/// - Owners set the key, the topic, kick, ban and hand ownership over. In a room without an
///   owner any member may set the topic.
/// - Operators (the accounts of the operators file, while logged in with its password) may do
///   everything an owner may in every room, and alone may `/announce`, `/kill`, `/ban`
///   server-wide and `/stats` (OperatorCommands.swift).
/// - Room settings live as long as the room, as IRC channel modes do: an emptied room is gone.
/// - Every command that takes a name takes a client's current display name, a guest's address
///   name (`127.0.0.1:52056`) included. A ban of a guest binds to its address (`BanTarget`).
///
/// Each entry is `.roomOwner`: the hub has checked the client owns the room (argument 0) and
/// hands over its slot as `Request.room`.
enum OwnerCommands {
    static let entries: [CommandEntry] = [
        CommandEntry("key", [.hashRoom, .optionalWord("KEY")], permission: .roomOwner,
                     help: "owner: set the room's key (no KEY: remove it)", group: .more) { setKey($0, $1, $1.arguments.text(1)) },
        CommandEntry("kick", [.hashRoom, .word("NAME"), .optionalText("reason")], permission: .roomOwner,
                     help: "owner: remove someone from the room", group: .more) { kick($0, $1, $1.arguments.word(1), reason: $1.arguments.text(2)) },
        CommandEntry("roomBan", words: ["ban"], [.hashRoom, .word("NAME")], permission: .roomOwner,
                     help: "owner: ban a name (a guest's address name: its address) from the room; /unban lifts it", group: .more) {
            roomBan($0, $1, $1.arguments.word(1))
        },
        CommandEntry("roomUnban", words: ["unban"], [.hashRoom, .word("NAME")], permission: .roomOwner, help: nil, group: .more) {
            roomUnban($0, $1, $1.arguments.word(1))
        },
        CommandEntry("owner", [.hashRoom, .word("NAME")], permission: .roomOwner,
                     help: "owner: hand the room over to another member", group: .more) { handOver($0, $1, to: $1.arguments.word(1)) },
    ]

    private static func setKey(_ hub: Hub, _ request: Request, _ key: String?) {
        guard let slot = request.room, let room = hub.rooms[slot] else { return }
        hub.rooms.setKey(key, of: slot)
        hub.roomAccessChanged(slot, wasProtected: room.isProtected)
        if let by = hub.clients.name(of: request.client) { hub.clusterRulesChanged(slot, by: by) }
        hub.reply(request.client, "key", key == nil ? "\(room.name) key removed" : "\(room.name) key set")
    }

    /// The member of the request's room shown as `name`, or the refusal sent.
    private static func member(_ hub: Hub, _ request: Request, named name: String) -> (ClientID, ClientState, Room)? {
        guard let slot = request.room, let room = hub.rooms[slot] else { return nil }
        guard let target = hub.clients.id(named: name), room.members.contains(target), let state = hub.clients[target] else {
            hub.refuse(request.client, .notInRoom(name, room: room.name))
            return nil
        }
        return (target, state, room)
    }

    private static func kick(_ hub: Hub, _ request: Request, _ name: String, reason: String?) {
        guard ArgumentCheck.reasonFits(hub, reason, request.client), let by = hub.clients.name(of: request.client) else { return }
        // A member on another node: its node removes it and tells every node.
        if let slot = request.room, let room = hub.rooms.nameAndKey(slot), hub.clients.id(named: name) == nil,
           let remote = hub.remoteMember(named: name, ofRoom: room.key) {
            hub.clusterKick(remote, room: room.name, by: by, reason: reason ?? "kicked")
            return hub.reply(request.client, "kick", "\(remote.name) removed from \(room.name)")
        }
        guard let (target, victim, room) = member(hub, request, named: name), let slot = request.room else { return }
        remove(hub, target, fromRoom: slot, by: by, why: reason ?? "kicked")
        hub.reply(request.client, "kick", "\(victim.name) removed from \(room.name)")
    }

    /// Bans a name (and the account of the client shown by it) or, for a guest's address name
    /// or an address or range, those addresses; removes every member the ban now covers.
    private static func roomBan(_ hub: Hub, _ request: Request, _ text: String) {
        let id = request.client
        guard let slot = request.room, let room = hub.rooms[slot], let by = hub.clients.name(of: id) else { return }
        guard let target = BanTarget(text) else {
            return hub.fail(id, .usage, "ban a name, a guest's address name (127.0.0.1:52056), an address or a range (127.0.0.0/8)")
        }
        switch target {
        case .name(let folded):
            var names: Set<String> = [folded]
            if let shown = hub.clients.id(named: text), let account = hub.clients[shown]?.account { names.insert(NameRules.fold(account)) }
            hub.rooms.ban(.names(names), in: slot)
        case .addresses(let range):
            hub.rooms.ban(.range(range), in: slot)
        }
        hub.roomAccessChanged(slot, wasProtected: room.isProtected)
        hub.clusterRulesChanged(slot, by: by)  // the other nodes remove the members it covers there
        guard let banned = hub.rooms[slot] else { return }
        var removed: [String] = []
        for member in room.members where !hub.isOwner(member, of: banned) {
            guard let state = hub.clients[member], banned.bans(state) else { continue }
            remove(hub, member, fromRoom: slot, by: by, why: "banned")
            removed.append(state.name)
        }
        // Members on other nodes shown by a banned name: their nodes remove them on hearing
        // the ban (an address ban's matches there are theirs to find).
        if case .name(let folded) = target, let remote = hub.remoteMember(named: folded, ofRoom: room.key) { removed.append(remote.name) }
        switch removed.count {
        case 0: hub.reply(id, "ban", "\(text) banned from \(room.name)")
        case 1: hub.reply(id, "ban", "\(removed[0]) removed from \(room.name)")
        default: hub.reply(id, "ban", "\(text) banned from \(room.name); \(removed.count) removed")
        }
    }

    /// Takes a member out of a room, telling it and the room why.
    static func remove(_ hub: Hub, _ target: ClientID, fromRoom slot: Int, by: String, why: String) {
        // Names only: a copy of the room held across removeMember would make it copy the member list.
        guard let victim = hub.clients.name(of: target), let room = hub.rooms.nameAndKey(slot)?.name else { return }
        hub.broadcast(.notice(.kicked(room: room, name: victim, by: by, reason: why, toVictim: false)), toRoom: slot, except: target)
        hub.removeMember(target, fromRoom: slot)
        if hub.isClustered { hub.clusterKicked(target, name: victim, room: room, by: by, reason: why) }
        hub.send(.notice(.kicked(room: room, name: victim, by: by, reason: why, toVictim: true)), to: target)
    }

    /// Lifts a room ban given as it was made (any spelling of the same address or range).
    private static func roomUnban(_ hub: Hub, _ request: Request, _ text: String) {
        guard let slot = request.room, let room = hub.rooms[slot] else { return }
        switch BanTarget(text) {
        case .addresses(let range): hub.rooms.unban(.range(range), in: slot)
        case .name(let folded): hub.rooms.unban(.names([folded]), in: slot)
        case nil: break  // nothing can be banned under a text that is no name or address
        }
        hub.roomAccessChanged(slot, wasProtected: room.isProtected)
        if let by = hub.clients.name(of: request.client) { hub.clusterRulesChanged(slot, by: by) }
        hub.reply(request.client, "unban", "\(text) may join \(room.name) again")
    }

    private static func handOver(_ hub: Hub, _ request: Request, to name: String) {
        let by = hub.clients.name(of: request.client) ?? ""
        if let slot = request.room, let room = hub.rooms.nameAndKey(slot), hub.clients.id(named: name) == nil,
           let remote = hub.remoteMember(named: name, ofRoom: room.key) {
            hub.clusterHandOver(slot, to: remote, by: by)
            hub.broadcast(.notice(.server("\(remote.name) now owns \(room.name)")), toRoom: slot, except: nil)
            return hub.reply(request.client, "owner", "\(remote.name) owns \(room.name)")
        }
        guard let (heir, state, room) = member(hub, request, named: name), let slot = request.room else { return }
        hub.rooms.setOwner(account: state.account.map(NameRules.fold), client: heir, of: slot)
        hub.clusterRulesChanged(slot, by: by)
        hub.broadcast(.notice(.server("\(state.name) now owns \(room.name)")), toRoom: slot, except: nil)
        hub.reply(request.client, "owner", "\(state.name) owns \(room.name)")
    }
}
