/// Execution: the one permission check every command passes through, read from its entry,
/// then its handler.
extension CommandTable {
    /// Runs a parsed line for `id`. A line that is no command (chat, an error) needs the server
    /// password like any command but the few the table allows before it.
    func execute(_ command: Command, in hub: Hub, from id: ClientID, admitted: Bool) {
        switch command {
        case .say(let text):
            guard admitted else { return hub.refuse(id, .passwordRequired) }
            TalkCommands.say(hub, text, from: id)
        case .invalid(let code, let text):
            guard admitted else { return hub.refuse(id, .passwordRequired) }  // /bogus gets PASSWORD_REQUIRED too
            hub.fail(id, code, text)
        case .run(let invocation):
            let entry = entry(invocation)
            guard admitted || entry.permission == .beforePassword else { return hub.refuse(id, .passwordRequired) }
            var room: Int?
            switch entry.permission {
            case .beforePassword, .admitted:
                break
            case .roomOwner:
                guard let slot = ownedRoom(invocation.arguments.word(0), in: hub, by: id) else { return }
                room = slot
            case .serverOperator:
                guard hub.isOperator(id) else { return hub.refuse(id, .notOperator("/" + entry.words[0])) }
            }
            entry.handler(hub, Request(client: id, arguments: invocation.arguments, room: room))
        }
    }

    /// The slot of a room `id` is in and owns, or the refusal sent to it.
    private func ownedRoom(_ name: String, in hub: Hub, by id: ClientID) -> Int? {
        guard let slot = ArgumentCheck.memberRoom(hub, NameRules.roomName(Substring(name)), of: id), let room = hub.rooms[slot] else { return nil }
        guard hub.isOwner(id, of: room) else {
            hub.refuse(id, .notOwner(of: room.name))
            return nil
        }
        return slot
    }
}
