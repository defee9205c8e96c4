/// Rooms: `/join`, `/part`, `/rooms`, `/who`, `/users`, `/topic`.
enum RoomCommands {
    static let entries: [CommandEntry] = [
        CommandEntry("join", [.room, .optionalWord("KEY")], help: "join a room (created on first join; KEY if it has one) and make it current") {
            join($0, $1.arguments.word(0), key: $1.arguments.text(1), from: $1.client)
        },
        CommandEntry("part", [.optionalHashRoom, .optionalText("reason")], help: "leave a room (default: the current one)") {
            part($0, $1.arguments.text(0), reason: $1.arguments.text(1), from: $1.client)
        },
        CommandEntry("rooms", words: ["rooms", "list"], help: "list rooms with member counts and topics") { listRooms($0, for: $1.client) },
        CommandEntry("who", [.optionalRoom], help: "list a room's members (default: the current room)") { who($0, $1.arguments.text(0), for: $1.client) },
        CommandEntry("users", help: "list everyone online") { users($0, for: $1.client) },
        CommandEntry("topic", [.room, .optionalText("text")], help: "show or set a room's topic") {
            topic($0, $1.arguments.word(0), text: $1.arguments.text(1), from: $1.client)
        },
    ]

    private static func join(_ hub: Hub, _ name: String, key: String?, from id: ClientID) {
        guard let state = hub.clients[id] else { return }
        guard NameRules.isValidRoom(Substring(name)) else { return hub.refuse(id, .invalidRoom(name)) }
        let existing = hub.rooms.slot(named: name)
        if let slot = existing, state.rooms.contains(slot), let room = hub.rooms[slot] {
            hub.clients.makeCurrent(id, room: slot)
            return hub.reply(id, "join", "\(room.name) (already a member; now your current room)")
        }
        guard state.rooms.count < hub.limits.maxRoomsPerClient else {
            return hub.fail(id, .tooManyRooms, "you are in \(state.rooms.count) rooms, the most allowed; /part one first")
        }
        // On a cluster node a room may exist only on other nodes: its rules hold here too.
        let elsewhere = existing == nil ? hub.clusterRoom(named: name) : nil
        if let room = existing.flatMap({ hub.rooms[$0] }) ?? elsewhere, !mayJoin(hub, id, state, room, key: key) { return }
        if existing == nil && hub.rooms.count >= hub.limits.maxRooms {
            return hub.fail(id, .tooManyRooms, "the server has \(hub.rooms.count) rooms, the most it allows; join an existing one")
        }
        let slot = existing ?? hub.createRoom(name)
        if existing == nil && elsewhere == nil {
            hub.rooms.setOwner(account: state.account.map(NameRules.fold), client: id, of: slot)
            hub.clusterRulesChanged(slot, by: state.name)
        }
        hub.addMember(id, toRoom: slot)
        guard let room = hub.rooms[slot] else { return }
        var text = "\(room.name) \(plural(room.members.count + hub.remoteMembers(ofRoom: room.key).count, "member"))"
        if !room.topic.isEmpty { text += ", topic: \(room.topic)" }
        hub.reply(id, "join", text)
        hub.replayOnJoin(room, to: id)
    }

    /// Whether `id` may enter the room; sends the refusal otherwise.
    private static func mayJoin(_ hub: Hub, _ id: ClientID, _ state: ClientState, _ room: Room, key: String?) -> Bool {
        if hub.isOwner(id, of: room) { return true }
        if room.bans(state) {
            hub.fail(id, .bannedFromRoom, "you are banned from \(room.name)")
            return false
        }
        if let needed = room.joinKey, needed != key {
            hub.fail(id, .badKey, key == nil ? "\(room.name) needs a key: /join \(room.name) KEY" : "wrong key for \(room.name)")
            return false
        }
        return true
    }

    private static func part(_ hub: Hub, _ name: String?, reason: String?, from id: ClientID) {
        guard ArgumentCheck.reasonFits(hub, reason, id), let slot = ArgumentCheck.chosenOrCurrentRoom(hub, name, of: id),
              let leaver = hub.clients.name(of: id), let room = hub.rooms.nameAndKey(slot)?.name else { return }
        // Names only: a copy of the room held across removeMember would make it copy the member list.
        hub.removeMember(id, fromRoom: slot)
        hub.broadcast(.notice(.left(name: leaver, room: room, reason: reason)), toRoom: slot, except: id, isNotice: true)
        let current = hub.clients.currentRoom(of: id).flatMap { hub.rooms.nameAndKey($0)?.name }
        hub.reply(id, "part", room + (current.map { "; current room: \($0)" } ?? "; you are in no room now"))
    }

    private static func listRooms(_ hub: Hub, for id: ClientID) {
        let shown = hub.rooms.first(hub.limits.maxListedNames)
        // On a cluster node, rooms whose only members are on other nodes are listed after.
        let remoteOnly = (hub.cluster?.rooms() ?? []).filter { hub.rooms.slot(named: $0.name) == nil }.sorted { $0.key < $1.key }
        let cost = shown.reduce(0) { $0 + $1.name.utf8.count + $1.topic.utf8.count + Hub.renderedLineOverhead }
            + remoteOnly.count * (NameRules.maxRoomLength + Hub.renderedLineOverhead)
        guard hub.router.outbox.charge(id, cost) else { return }
        for room in shown {
            let members = plural(room.members.count + hub.remoteMembers(ofRoom: room.key).count, "member")
            hub.reply(id, "rooms", room.topic.isEmpty ? "\(room.name) \(members)" : "\(room.name) \(members): \(room.topic)", final: false)
        }
        for room in remoteOnly.prefix(max(0, hub.limits.maxListedNames - shown.count)) {
            hub.reply(id, "rooms", "\(room.name) \(plural(room.members, "member"))", final: false)
        }
        let total = hub.rooms.count + remoteOnly.count
        hub.reply(id, "rooms", plural(total, "room") + shownSuffix(hub, total))
    }

    private static func who(_ hub: Hub, _ name: String?, for id: ClientID) {
        let slot = name.map { ArgumentCheck.existingRoom(hub, $0, for: id) } ?? ArgumentCheck.chosenOrCurrentRoom(hub, nil, of: id)
        guard let slot, let room = hub.rooms[slot] else { return }
        let listed = min(room.members.count, hub.limits.maxListedNames)
        guard hub.router.outbox.charge(id, listed * (room.name.utf8.count + NameRules.maxNameLength + Hub.renderedLineOverhead)) else { return }
        for member in room.members.prefix(hub.limits.maxListedNames) {
            guard let state = hub.clients[member] else { continue }
            hub.reply(id, "who", state.away == nil ? "\(room.name) \(state.name)" : "\(room.name) \(state.name) (away)", final: false)
        }
        let remote = hub.remoteMembers(ofRoom: room.key)
        for member in remote.prefix(max(0, hub.limits.maxListedNames - room.members.count)) { hub.reply(id, "who", "\(room.name) \(member.name)", final: false) }
        let total = room.members.count + remote.count
        hub.reply(id, "who", "\(room.name) \(plural(total, "member"))" + shownSuffix(hub, total))
    }

    private static func users(_ hub: Hub, for id: ClientID) {
        var names = hub.clients.someNames(hub.limits.maxListedNames)
        let remote = hub.cluster?.all
        if let remote { names += remote.prefix(max(0, hub.limits.maxListedNames - names.count)).map(\.name) }
        guard hub.router.outbox.charge(id, names.count * (NameRules.maxNameLength + Hub.renderedLineOverhead)) else { return }
        for name in names { hub.reply(id, "users", name, final: false) }
        let total = hub.authorisedCount + (remote?.count ?? 0)
        hub.reply(id, "users", "\(total) online" + shownSuffix(hub, total))
    }

    private static func shownSuffix(_ hub: Hub, _ count: Int) -> String {
        count > hub.limits.maxListedNames ? " (first \(hub.limits.maxListedNames) shown)" : ""
    }

    private static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

    private static func topic(_ hub: Hub, _ name: String, text: String?, from id: ClientID) {
        guard let text else {
            guard NameRules.isValidRoom(Substring(name)), let slot = hub.rooms.slot(named: name), let room = hub.rooms[slot] else {
                return hub.refuse(id, .noSuchRoom(name))
            }
            return hub.reply(id, "topic", room.topic.isEmpty ? "\(room.name) has no topic" : "\(room.name): \(room.topic)")
        }
        guard let slot = ArgumentCheck.memberRoom(hub, name, of: id), let setter = hub.clients[id]?.name, let room = hub.rooms[slot] else { return }
        guard !room.hasOwner || hub.isOwner(id, of: room) else { return hub.refuse(id, .notOwner(of: room.name, "set its topic")) }
        guard text.utf8.count <= hub.limits.maxTopicBytes else {
            return hub.fail(id, .topicTooLong, "topics are limited to \(hub.limits.maxTopicBytes) bytes")
        }
        hub.rooms.setTopic(text, of: slot, by: setter, at: hub.now)
        hub.remember(.topic, room: room.name, key: room.key, sender: setter, text: ArraySlice(text.utf8))
        hub.broadcast(.notice(.topic(room: room.name, by: setter, text: text)), toRoom: slot, except: id)
        hub.reply(id, "topic", "\(room.name) set")
    }
}
