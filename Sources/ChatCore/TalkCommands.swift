/// Saying things: a plain line to the current room (the hot path), `/say` to another room,
/// `/me` and private messages.
enum TalkCommands {
    static let entries: [CommandEntry] = [
        CommandEntry("sayTo", words: ["say"], [.room, .message("text")], help: "say something in a room other than the current one") {
            sayTo($0, $1.arguments.word(0), $1.arguments.bytes(1), from: $1.client)
        },
        CommandEntry("me", [.message("action")], help: "describe an action in the current room") { me($0, $1.arguments.bytes(0), from: $1.client) },
        CommandEntry("msg", words: ["msg", "query", "tell"], [.word("NAME"), .message("text")], help: "send a private message") {
            privateMessage($0, to: $1.arguments.word(0), $1.arguments.bytes(1), from: $1.client)
        },
    ]

    /// The hot path: a plain line to the current room. Reads only the two names it needs
    /// rather than copying the client's and the room's whole state.
    static func say(_ hub: Hub, _ text: ArraySlice<UInt8>, from id: ClientID) {
        guard let slot = ArgumentCheck.chosenOrCurrentRoom(hub, nil, of: id) else { return }
        relay(hub, .chat, text, in: slot, from: id)
    }

    private static func sayTo(_ hub: Hub, _ name: String, _ text: ArraySlice<UInt8>, from id: ClientID) {
        guard let slot = ArgumentCheck.memberRoom(hub, name, of: id), let room = relay(hub, .chat, text, in: slot, from: id) else { return }
        hub.reply(id, "say", room)
    }

    private static func me(_ hub: Hub, _ text: ArraySlice<UInt8>, from id: ClientID) {
        guard let slot = ArgumentCheck.chosenOrCurrentRoom(hub, nil, of: id), let room = relay(hub, .action, text, in: slot, from: id) else { return }
        hub.reply(id, "me", room)
    }

    /// Sends a line or an action to the room's other members and keeps it for history;
    /// returns the room's name.
    @discardableResult
    static func relay(_ hub: Hub, _ kind: HistoryEntry.Kind, _ text: ArraySlice<UInt8>, in slot: Int, from id: ClientID) -> String? {
        guard let sender = hub.clients.name(of: id), let room = hub.rooms.nameAndKey(slot) else { return nil }
        let message: Outgoing = kind == .action ? .action(room: room.name, from: sender, text: text) : .chat(room: room.name, from: sender, text: text)
        hub.broadcast(message, toRoom: slot, except: id)
        hub.messagesRelayed &+= 1
        hub.remember(kind, room: room.name, key: room.key, sender: sender, text: text)
        return room.name
    }

    private static func privateMessage(_ hub: Hub, to name: String, _ text: ArraySlice<UInt8>, from id: ClientID) {
        guard let sender = hub.clients.name(of: id) else { return }
        guard let target = hub.clients.id(named: name), let recipient = hub.clients.nameAndAway(of: target) else {
            guard let remote = hub.clusterPrivateMessage(to: name, from: sender, text) else { return hub.refuse(id, .notOnline(name)) }
            hub.messagesRelayed &+= 1
            return hub.reply(id, "msg", remote)
        }
        hub.send(.privateMessage(from: sender, text: text), to: target)
        hub.messagesRelayed &+= 1
        hub.reply(id, "msg", recipient.away.map { "\(recipient.name) (away: \($0))" } ?? recipient.name)
    }
}
