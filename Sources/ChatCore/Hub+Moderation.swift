/// Room protection (owners, keys, kicks, room bans) and server operators.
///
/// Permission rules, in one place:
/// - A room's owner is its creator: the account it was logged in as, or — for a guest — that
///   connection while it stays in the room. The default room has no owner.
/// - Owners set the key, the topic, kick, ban and hand ownership over. In a room without an
///   owner any member may set the topic.
/// - Operators (the accounts of the operators file, while logged in with its password) may do
///   everything an owner may in every room, and alone may `/announce`, `/kill`, `/ban`
///   server-wide and `/stats`.
/// - Room settings live as long as the room, as IRC channel modes do: an emptied room is gone.
/// - Every command that takes a name takes a client's current display name, a guest's address
///   name (`127.0.0.1:52056`) included. A ban of a guest binds to its address (`BanTarget`).
extension Hub {
    func isOperator(_ id: ClientID) -> Bool {
        guard let state = client(id), state.isOperatorLogin, let account = state.account else { return false }
        return operatorAccounts[NameRules.fold(account)] != nil  // a SIGHUP may have removed it
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

    /// Whether a room ban covers the client: its name, its account or its address. Owners and
    /// operators are never covered (`mayJoin` lets them in first).
    private func isBanned(_ state: ClientState, from room: Room) -> Bool {
        if room.bannedNames.contains(NameRules.fold(state.name)) { return true }
        if let account = state.account, room.bannedNames.contains(NameRules.fold(account)) { return true }
        guard let ip = state.ip else { return false }
        return room.bannedRanges.contains { $0.contains(ip) }
    }

    /// Whether `id` may enter the room; sends the refusal otherwise.
    func mayJoin(_ id: ClientID, _ room: Room, key: String?) -> Bool {
        guard let state = client(id) else { return false }
        if isOwner(id, of: room) { return true }
        if isBanned(state, from: room) {
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
        updateRoom(slot) { $0.joinKey = key }
        historyAccessChanged(slot, wasProtected: room.isProtected)
        reply(id, "key", key == nil ? "\(room.name) key removed" : "\(room.name) key set")
    }

    func kick(_ roomName: String, _ name: String, reason: String?, from id: ClientID) {
        guard reasonFits(reason, id), let slot = ownedRoom(roomName, by: id), let room = room(slot), let by = client(id)?.name else { return }
        guard let target = clientID(named: name), room.members.contains(target), let victim = client(target) else {
            fail(id, .noSuchNick, "\(Sanitizer.printable(name.prefix(40))) is not in \(room.name)")
            return
        }
        remove(target, fromRoom: slot, by: by, why: reason ?? "kicked")
        reply(id, "kick", "\(victim.name) removed from \(room.name)")
    }

    /// Bans a name (and the account of the client shown by it) or, for a guest's address name
    /// or an address or range, those addresses; removes every member the ban now covers.
    func roomBan(_ roomName: String, _ text: String, from id: ClientID) {
        guard let slot = ownedRoom(roomName, by: id), let room = room(slot), let by = client(id)?.name else { return }
        guard let target = BanTarget(text) else {
            fail(id, .usage, "ban a name, a guest's address name (127.0.0.1:52056), an address or a range (127.0.0.0/8)")
            return
        }
        defer { historyAccessChanged(slot, wasProtected: room.isProtected) }
        switch target {
        case .name(let folded):
            var names: Set<String> = [folded]
            if let shown = clientID(named: text), let account = client(shown)?.account { names.insert(NameRules.fold(account)) }
            updateRoom(slot) { $0.bannedNames.formUnion(names) }
        case .addresses(let range):
            updateRoom(slot) { if !$0.bannedRanges.contains(range) { $0.bannedRanges.append(range) } }
        }
        guard let banned = self.room(slot) else { return }
        var removed: [String] = []
        for member in room.members where !isOwner(member, of: banned) {
            guard let state = client(member), isBanned(state, from: banned) else { continue }
            remove(member, fromRoom: slot, by: by, why: "banned")
            removed.append(state.name)
        }
        switch removed.count {
        case 0: reply(id, "ban", "\(text) banned from \(room.name)")
        case 1: reply(id, "ban", "\(removed[0]) removed from \(room.name)")
        default: reply(id, "ban", "\(text) banned from \(room.name); \(removed.count) removed")
        }
    }

    /// Takes a member out of a room, telling it and the room why.
    private func remove(_ target: ClientID, fromRoom slot: Int, by: String, why: String) {
        guard let victim = client(target), let room = room(slot) else { return }
        broadcast(.notice(.server("\(victim.name) was removed from \(room.name) by \(by) (\(why))")), toRoom: slot, except: target)
        removeMember(target, fromRoom: slot)
        send(.notice(.server("you were removed from \(room.name) by \(by) (\(why))")), to: target)
    }

    /// Lifts a room ban given as it was made (any spelling of the same address or range).
    func roomUnban(_ roomName: String, _ text: String, from id: ClientID) {
        guard let slot = ownedRoom(roomName, by: id), let room = room(slot) else { return }
        defer { historyAccessChanged(slot, wasProtected: room.isProtected) }
        switch BanTarget(text) {
        case .addresses(let range): updateRoom(slot) { $0.bannedRanges.removeAll { $0 == range } }
        case .name(let folded): updateRoom(slot) { $0.bannedNames.remove(folded) }
        case nil: break  // nothing can be banned under a text that is no name or address
        }
        reply(id, "unban", "\(text) may join \(room.name) again")
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
        let recipients = announce(text)
        reply(id, "announce", "sent to \(recipients) clients")
    }

    func kill(_ name: String, reason: String?, from id: ClientID) {
        guard operatorOnly(id, "/kill"), reasonFits(reason, id) else { return }
        guard let target = clientID(named: name), let victim = client(target) else {
            fail(id, .noSuchNick, "\"\(Sanitizer.printable(name.prefix(40)))\" is not online")
            return
        }
        expel(target, .killed, "disconnected by an operator" + (reason.map { ": \($0)" } ?? ""), reason: "killed by an operator")
        reply(id, "kill", victim.name)
    }

    /// A server-wide ban on a name, or on an address or range (a guest's address name bans its
    /// address). Stored under the canonical text of the range, so every spelling finds it.
    func serverBan(_ target: String, seconds: Double?, from id: ClientID) {
        guard operatorOnly(id, "/ban"), let by = client(id)?.name else { return }
        guard let parsed = BanTarget(target) else {
            fail(id, .usage, "ban an address (127.0.0.2, ::1), a range (127.0.0.0/8, 2001:db8::/32), a guest's address name or a name")
            return
        }
        let key: String
        var range: AddressRange?
        switch parsed {
        case .name(let folded): key = folded
        case .addresses(let addresses):
            key = addressBans.key(for: addresses) ?? addresses.description
            range = addresses
        }
        let ban = ServerBan(target: key, isAddress: range != nil, until: seconds.map { now + $0 }, setBy: by)
        serverBans[key] = ban
        pendingAccountChanges.append(.saveBan(ban))
        var removed = 0
        for other in allClientIDs() where other != id {
            guard let state = client(other) else { continue }
            let matches = range.map { range in state.ip.map(range.contains) ?? false }
                ?? (NameRules.fold(state.name) == key || state.account.map(NameRules.fold) == key)
            if matches {
                expel(other, .banned, "you are banned from this server" + banSuffix(ban), reason: "banned")
                removed += 1
            }
        }
        reply(id, "ban", "\(target) banned" + banSuffix(ban) + "; \(removed) disconnected")
    }

    func serverUnban(_ target: String, from id: ClientID) {
        guard operatorOnly(id, "/unban") else { return }
        let key: String
        switch BanTarget(target) {
        case .addresses(let range): key = addressBans.key(for: range) ?? target
        case .name(let folded): key = folded
        case nil: key = target  // a stored key of an older, unparsed form
        }
        guard serverBans.removeValue(forKey: key) != nil else {
            fail(id, .usage, "\(Sanitizer.printable(target.prefix(60))) is not banned")
            return
        }
        pendingAccountChanges.append(.removeBan(target: key))
        reply(id, "unban", "\(target) unbanned")
    }

    /// An unexpired server ban covering `address`; expired ones are dropped on the way.
    func activeAddressBan(covering address: IPAddress) -> ServerBan? {
        for key in addressBans.keys(covering: address) {
            if let ban = activeBan(key) { return ban }
        }
        return nil
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
