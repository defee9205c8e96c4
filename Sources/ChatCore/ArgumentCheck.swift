/// Arguments that name a room or carry a reason, checked the same way by every command: a
/// valid room name, a room that exists, one the client is in, a reason within its bound.
/// Each returns nil or false after sending the one refusal for the case.
enum ArgumentCheck {
    /// The slot of the room the client is in, or the refusal sent to it.
    static func memberRoom(_ hub: Hub, _ name: String, of id: ClientID) -> Int? {
        guard let slot = existingRoom(hub, name, for: id) else { return nil }
        guard hub.clients[id]?.rooms.contains(slot) == true else {
            hub.refuse(id, .notMember(of: name))
            return nil
        }
        return slot
    }

    /// The slot of an existing room, or the refusal sent to `id`.
    static func existingRoom(_ hub: Hub, _ name: String, for id: ClientID) -> Int? {
        guard NameRules.isValidRoom(Substring(name)) else {
            hub.refuse(id, .invalidRoom(name))
            return nil
        }
        guard let slot = hub.rooms.slot(named: name) else {
            hub.refuse(id, .noSuchRoom(name))
            return nil
        }
        return slot
    }

    /// The named room (which the client must be in) or, with no name, its current room.
    static func chosenOrCurrentRoom(_ hub: Hub, _ name: String?, of id: ClientID) -> Int? {
        if let name { return memberRoom(hub, name, of: id) }
        guard let slot = hub.clients.currentRoom(of: id) else {
            hub.refuse(id, .inNoRoom)
            return nil
        }
        return slot
    }

    /// Whether a `/part`, `/kick` or `/kill` reason is within `maxReasonBytes`; sends the
    /// refusal otherwise.
    static func reasonFits(_ hub: Hub, _ reason: String?, _ id: ClientID) -> Bool {
        guard let reason, reason.utf8.count > hub.limits.maxReasonBytes else { return true }
        hub.refuse(id, .textTooLong("reasons", hub.limits.maxReasonBytes))
        return false
    }
}
