/// What changes more than one part at once — a client entering or leaving a room, a rename,
/// a room created or emptied — and the sending helpers every handler uses.
extension Hub {
    /// Puts an admitted client in the default room, with the MOTD and the room's history.
    func enterLobby(_ id: ClientID) {
        let lobby = rooms.exists(lobbySlot) ? lobbySlot : (rooms.slot(named: defaultRoom) ?? createRoom(defaultRoom, permanent: true))
        for line in motd { send(.notice(.server(line)), to: id) }
        addMember(id, toRoom: lobby)
        if let room = rooms.nameAndKey(lobby) { replayOnJoin(name: room.name, key: room.key, to: id) }
    }

    func createRoom(_ name: String, permanent: Bool = false) -> Int {
        let slot = rooms.create(name, permanent: permanent)
        roomHistory.roomCreated(key: NameRules.fold(name))
        clusterRoomOpened(NameRules.fold(name), slot: slot)
        return slot
    }

    /// Adds `id` to a room, makes it current, and tells the others.
    func addMember(_ id: ClientID, toRoom slot: Int) {
        // Names read in place: a copy of the client's state or of the room costs a retain and a
        // release per field, on every join.
        guard let name = clients.name(of: id), let room = rooms.nameAndKey(slot) else { return }
        rooms.add(id, native: clients.style(of: id) == .native, to: slot)
        clients.joined(id, room: slot)
        broadcast(.notice(.joined(name: name, room: room.name)), toRoom: slot, except: id, isNotice: true)
    }

    /// Removes `id` from a room (deleting an emptied room) without any notice.
    func removeMember(_ id: ClientID, fromRoom slot: Int) {
        if cluster != nil, rooms[slot]?.ownerClient == id { clusterOwnerLeaves(slot, name: clients.name(of: id) ?? "") }
        clients.left(id, room: slot)
        if let deleted = rooms.remove(id, native: clients.style(of: id) == .native, from: slot) {
            roomHistory.roomDeleted(deleted)
            clusterRoomClosed(deleted.key, name: deleted.name)
        }
    }

    /// Gives a client a new name, telling the rooms it shares (used by `/nick`, login, logout).
    func rename(_ id: ClientID, to name: String, chosen: Bool) {
        guard let old = clients.rename(id, to: name, chosen: chosen) else { return }
        notifyRoomsOf(id, .notice(.renamed(old: old.name, new: name, firstName: chosen && !old.hasChosenName)))
        clusterRenamed(id, old: old, to: name, chosen: chosen, firstName: chosen && !old.hasChosenName)
    }

    /// The client reads `style` from now on (the seed protocol chosen by a first line, an IRC
    /// capability that changes its bytes): its rooms' counts of non-native members follow.
    func changeStyle(_ id: ClientID, to style: WireStyle) {
        let old = clients.style(of: id)
        guard clients[id] != nil, old != style else { return }
        clients.setStyle(id, style)
        counters.clientsByStyle[Int(old.index)] -= 1
        counters.clientsByStyle[Int(style.index)] += 1
        if (old == .native) != (style == .native) {
            for slot in clients[id]?.rooms ?? [] { rooms.memberChangedStyle(slot, nowNative: style == .native) }
        }
    }

    /// A room's key or bans changed: its history may have to be protected (RoomHistory).
    func roomAccessChanged(_ slot: Int, wasProtected: Bool) {
        if let room = rooms[slot] { roomHistory.accessChanged(room, wasProtected: wasProtected) }
    }

    /// Keeps a line said in a room for replay and, when it was said here (`said`; false for a
    /// line another node of a cluster said and stored), for the store.
    func remember(_ kind: HistoryEntry.Kind, room: String, key: String, sender: String, text: ArraySlice<UInt8>, said: Bool = true) {
        guard roomHistory.book != nil else { return }
        roomHistory.remember(HistoryEntry(room: room, at: now, kind: kind, sender: sender, text: Array(text)), key: key, store: said)
        if cluster?.historyLoads.isEmpty == false { clusterHistoryArrived(key) }
    }

    // MARK: Sending

    /// The fan-out: queues `message` for every member of the room but `sender`, rendered once
    /// per style present. Notices are skipped in rooms above `noticeRoomLimit`.
    func broadcast(_ message: Outgoing, toRoom slot: Int, except sender: ClientID?, isNotice: Bool = false) {
        if cluster != nil { clusterRelay(message, toRoom: slot, subject: sender) }
        broadcastHere(message, toRoom: slot, except: sender, isNotice: isNotice)
    }

    /// `broadcast` to this node's members only (notices above `noticeRoomLimit` members are not sent).
    private func broadcastHere(_ message: Outgoing, toRoom slot: Int, except sender: ClientID?, isNotice: Bool) {
        guard let (members, otherStyleMembers) = rooms.audience(slot) else { return }
        if isNotice && members.count > limits.noticeRoomLimit { return }
        router.broadcast(message, to: members, otherStyleMembers: otherStyleMembers, styles: clients.styles, except: sender)
    }

    /// Sends a notice about `id` once to everyone sharing a room with it (not to `id` itself).
    /// A client in one room (most are: every quit in a churn) takes the broadcast's path:
    /// nobody can be reached twice, so no per-member marks are needed.
    func notifyRoomsOf(_ id: ClientID, _ message: Outgoing) {
        guard let slots = clients.rooms(of: id) else { return }
        if slots.count == 1 { return broadcastHere(message, toRoom: slots[0], except: id, isNotice: true) }
        router.notifyOnce(message, about: id, styles: clients.styles) { visit in
            for slot in slots {
                if let members = rooms.audience(slot)?.members, members.count <= limits.noticeRoomLimit { visit(members) }
            }
        }
    }

    /// Sends a server notice to every admitted client (operator announcements, shutdown) and
    /// returns how many got it. A client that has not given the server password sees nothing.
    @discardableResult
    public func announce(_ text: String) -> Int {
        router.announce(.notice(.server(text))) { clients.forEachAdmitted($0) }
    }

    /// Sends `message` to one client only, rendered in its style.
    public func send(_ message: Outgoing, to id: ClientID) {
        router.send(message, to: id, style: clients.style(of: id))
    }

    func reply(_ id: ClientID, _ command: String, _ text: String = "", final: Bool = true) {
        send(.reply(command: command, text: text, final: final), to: id)
    }

    func fail(_ id: ClientID, _ code: ErrorCode, _ text: String) {
        send(.error(code, text), to: id)
    }

    func refuse(_ id: ClientID, _ refusal: Refusal) {
        send(.error(refusal.code, refusal.text), to: id)
    }
}
