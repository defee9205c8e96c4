/// Room protection (owners, keys, kicks, room bans) and server operators.
///
/// Permission rules, in one place:
/// - A room's owner is its creator: the account it was logged in as, or — for a guest — that
///   connection while it stays in the room. The default room has no owner.
/// - Owners set the key, the topic, kick, ban and hand ownership over. In a room without an
///   owner any member may set the topic.
/// - Operators (accounts named by `--operators`, while logged in) may do everything an owner
///   may in every room, and alone may `/announce`, `/kill`, `/ban` server-wide and `/stats`.
/// - Room settings live as long as the room, as IRC channel modes do: an emptied room is gone.
extension Hub {
    func isOperator(_ id: ClientID) -> Bool {
        guard let account = client(id)?.account else { return false }
        return operators.contains(NameRules.fold(account))
    }

    func isOwner(_ id: ClientID, of room: Room) -> Bool {
        if room.ownerClient == id || isOperator(id) { return true }
        guard let owner = room.ownerAccount, let account = client(id)?.account else { return false }
        return NameRules.fold(account) == owner
    }

    /// The slot of a room `id` owns, or an error sent to it.
    private func ownedRoom(_ name: String, by id: ClientID) -> Int? {
        guard let slot = memberRoom(NameRules.roomName(Substring(name)), of: id), let room = room(slot) else { return nil }
        guard isOwner(id, of: room) else {
            fail(id, .notOwner, "only the owner of \(room.name) may do that")
            return nil
        }
        return slot
    }

    private func operatorOnly(_ id: ClientID, _ command: String) -> Bool {
        if isOperator(id) { return true }
        fail(id, .notOperator, "only server operators may \(command)")
        return false
    }

    /// Makes the new room's creator its owner.
    func claimOwnership(ofRoom slot: Int, by id: ClientID) {
        let account = client(id)?.account.map(NameRules.fold)
        updateRoom(slot) { room in
            room.ownerAccount = account
            room.ownerClient = account == nil ? id : nil
        }
    }

    /// Whether `id` may enter the room; sends the refusal otherwise.
    func mayJoin(_ id: ClientID, _ room: Room, key: String?) -> Bool {
        guard let state = client(id) else { return false }
        if isOwner(id, of: room) { return true }
        if room.bannedNames.contains(NameRules.fold(state.name)) || state.account.map({ room.bannedNames.contains(NameRules.fold($0)) }) == true {
            fail(id, .bannedFromRoom, "you are banned from \(room.name)")
            return false
        }
        if let needed = room.joinKey, needed != key {
            fail(id, .badKey, key == nil ? "\(room.name) needs a key: /join \(room.name) KEY" : "wrong key for \(room.name)")
            return false
        }
        return true
    }

    func setKey(_ name: String, _ key: String?, from id: ClientID) {
        guard let slot = ownedRoom(name, by: id), let room = room(slot) else { return }
        if key != nil { historyRoomProtected(slot) }
        updateRoom(slot) { $0.joinKey = key }
        reply(id, "key", key == nil ? "\(room.name) key removed" : "\(room.name) key set")
    }

    func kick(_ roomName: String, _ name: String, reason: String?, from id: ClientID, ban: Bool = false) {
        guard let slot = ownedRoom(roomName, by: id), let room = room(slot), let by = client(id)?.name else { return }
        let target = clientID(named: name)
        if ban {
            var names: Set<String> = [NameRules.fold(name)]
            if let target, let account = client(target)?.account { names.insert(NameRules.fold(account)) }
            historyRoomProtected(slot)
            updateRoom(slot) { $0.bannedNames.formUnion(names) }
        }
        guard let target, room.members.contains(target), let victim = client(target) else {
            if ban { reply(id, "ban", "\(name) banned from \(room.name)") } else {
                fail(id, .noSuchNick, "\(Sanitizer.printable(name.prefix(40))) is not in \(room.name)")
            }
            return
        }
        let why = reason ?? (ban ? "banned" : "kicked")
        broadcast(.notice(.server("\(victim.name) was removed from \(room.name) by \(by) (\(why))")), toRoom: slot, except: target)
        removeMember(target, fromRoom: slot)
        send(.notice(.server("you were removed from \(room.name) by \(by) (\(why))")), to: target)
        reply(id, ban ? "ban" : "kick", "\(victim.name) removed from \(room.name)")
    }

    func roomUnban(_ roomName: String, _ name: String, from id: ClientID) {
        guard let slot = ownedRoom(roomName, by: id), let room = room(slot) else { return }
        updateRoom(slot) { $0.bannedNames.remove(NameRules.fold(name)) }
        reply(id, "unban", "\(name) may join \(room.name) again")
    }

    func handOver(_ roomName: String, to name: String, from id: ClientID) {
        guard let slot = ownedRoom(roomName, by: id), let room = room(slot) else { return }
        guard let target = clientID(named: name), room.members.contains(target), let heir = client(target) else {
            fail(id, .noSuchNick, "\(Sanitizer.printable(name.prefix(40))) is not in \(room.name)")
            return
        }
        let account = heir.account.map(NameRules.fold)
        updateRoom(slot) { room in
            room.ownerAccount = account
            room.ownerClient = account == nil ? target : nil
        }
        broadcast(.notice(.server("\(heir.name) now owns \(room.name)")), toRoom: slot, except: nil)
        reply(id, "owner", "\(heir.name) owns \(room.name)")
    }

    // MARK: Operators

    func operatorAnnounce(_ text: String, from id: ClientID) {
        guard operatorOnly(id, "/announce") else { return }
        announce(text)
        reply(id, "announce", "sent to \(clientCount) clients")
    }

    func kill(_ name: String, reason: String?, from id: ClientID) {
        guard operatorOnly(id, "/kill") else { return }
        guard let target = clientID(named: name), let victim = client(target) else {
            fail(id, .noSuchNick, "\"\(Sanitizer.printable(name.prefix(40)))\" is not online")
            return
        }
        expel(target, .killed, "disconnected by an operator" + (reason.map { ": \($0)" } ?? ""), reason: "killed by an operator")
        reply(id, "kill", victim.name)
    }

    func serverBan(_ target: String, seconds: Double?, from id: ClientID) {
        guard operatorOnly(id, "/ban"), let by = client(id)?.name else { return }
        let isAddress = target.contains(":") || target.allSatisfy { $0.isNumber || $0 == "." }
        guard isAddress || NameRules.isValidName(Substring(target)) else {
            fail(id, .usage, "ban an address (127.0.0.2, ::1) or a name")
            return
        }
        let key = isAddress ? target : NameRules.fold(target)
        let ban = ServerBan(target: key, isAddress: isAddress, until: seconds.map { now + $0 }, setBy: by)
        serverBans[key] = ban
        pendingAccountChanges.append(.saveBan(ban))
        var removed = 0
        for other in allClientIDs() where other != id {
            guard let state = client(other) else { continue }
            let matches = isAddress ? state.host == key : NameRules.fold(state.name) == key || state.account.map(NameRules.fold) == key
            if matches {
                expel(other, .banned, "you are banned from this server" + banSuffix(ban), reason: "banned")
                removed += 1
            }
        }
        reply(id, "ban", "\(target) banned" + banSuffix(ban) + "; \(removed) disconnected")
    }

    func serverUnban(_ target: String, from id: ClientID) {
        guard operatorOnly(id, "/unban") else { return }
        let key = serverBans[target] != nil ? target : NameRules.fold(target)
        guard serverBans.removeValue(forKey: key) != nil else {
            fail(id, .usage, "\(Sanitizer.printable(target.prefix(60))) is not banned")
            return
        }
        pendingAccountChanges.append(.removeBan(target: key))
        reply(id, "unban", "\(target) unbanned")
    }

    func showStats(for id: ClientID) {
        guard operatorOnly(id, "/stats") else { return }
        let uptime = Int(stats.uptimeSeconds)
        let text = "\(clientCount) clients, \(roomCount) rooms, \(String(format1: stats.messagesPerSecond)) messages/s, "
            + "\(stats.bytesQueued) bytes queued, up \(uptime / 86_400)d \(uptime / 3600 % 24)h \(uptime / 60 % 60)m \(uptime % 60)s, "
            + "\(accounts.count) accounts, \(serverBans.count) bans"
        reply(id, "stats", text)
    }
}

extension String {
    /// One decimal place, without Foundation's String(format:).
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }
}
