/// One handler per command. Each ends in exactly one reply or one error to the sender.
extension Hub {
    func execute(_ command: Command, from id: ClientID) {
        switch command {
        case .say(let text): say(text, from: id)
        case .sayTo(let room, let text): sayTo(room, text, from: id)
        case .me(let text): me(text, from: id)
        case .nick(let name): nick(name, from: id)
        case .join(let room, let key): join(room, key: key, from: id)
        case .part(let room, let reason): part(room, reason: reason, from: id)
        case .rooms: listRooms(for: id)
        case .who(let room): who(room, for: id)
        case .users: users(for: id)
        case .topic(let room, let text): topic(room, text: text, from: id)
        case .msg(let to, let text): privateMessage(to: to, text, from: id)
        case .away(let text): away(text, from: id)
        case .whois(let name): whois(name, for: id)
        case .ping(let token): reply(id, "pong", token ?? "")
        case .quit(let reason): quit(reason, from: id)
        case .help: help(for: id)
        case .history(let room, let count): showHistory(room, count: count, for: id)
        case .pass(let password): pass(password, from: id)
        case .register(let name, let password): register(name, password: password, from: id)
        case .login(let name, let password): login(name, password: password, from: id)
        case .passwd(let old, let new): passwd(old: old, new: new, from: id)
        case .logout: logout(from: id)
        case .key(let room, let key): setKey(room, key, from: id)
        case .kick(let room, let name, let reason): kick(room, name, reason: reason, from: id)
        case .roomBan(let room, let name): roomBan(room, name, from: id)
        case .roomUnban(let room, let name): roomUnban(room, name, from: id)
        case .owner(let room, let name): handOver(room, to: name, from: id)
        case .announce(let text): operatorAnnounce(text, from: id)
        case .kill(let name, let reason): kill(name, reason: reason, from: id)
        case .ban(let target, let seconds): serverBan(target, seconds: seconds, from: id)
        case .unban(let target): serverUnban(target, from: id)
        case .stats: showStats(for: id)
        case .invalid(let code, let text): fail(id, code, text)
        }
    }

    func reply(_ id: ClientID, _ command: String, _ text: String = "", final: Bool = true) {
        send(.reply(command: command, text: text, final: final), to: id)
    }

    func fail(_ id: ClientID, _ code: ErrorCode, _ text: String) {
        send(.error(code, text), to: id)
    }

    /// The slot of the room the client is in, or an error sent to it.
    func memberRoom(_ name: String, of id: ClientID) -> Int? {
        guard NameRules.isValidRoom(Substring(name)) else {
            fail(id, .roomInvalid, "\"\(Sanitizer.printable(name.prefix(60)))\" is not a valid room name: use # and 1-49 of A-Z a-z 0-9 _ - .")
            return nil
        }
        guard let slot = roomSlot(named: name) else {
            fail(id, .noSuchRoom, "there is no room \(name)")
            return nil
        }
        guard client(id)?.rooms.contains(slot) == true else {
            fail(id, .notInRoom, "you are not in \(name); /join it first")
            return nil
        }
        return slot
    }

    func currentRoom(of id: ClientID) -> Int? {
        guard let slot = client(id)?.rooms.last else {
            fail(id, .noRoom, "you are not in any room; /join one first")
            return nil
        }
        return slot
    }

    // MARK: Talking

    /// The hot path: a plain line to the current room. Reads only the two names it needs
    /// rather than copying the client's and the room's whole state.
    private func say(_ text: ArraySlice<UInt8>, from id: ClientID) {
        guard let slot = currentRoom(of: id), let sender = name(of: id), let (room, key) = roomNameAndKey(slot) else { return }
        broadcast(.chat(room: room, from: sender, text: text), toRoom: slot, except: id)
        messagesRelayed &+= 1
        remember(.chat, room: room, key: key, sender: sender, text: text)
    }

    private func sayTo(_ name: String, _ text: ArraySlice<UInt8>, from id: ClientID) {
        guard let slot = memberRoom(name, of: id), let state = client(id), let room = room(slot) else { return }
        broadcast(.chat(room: room.name, from: state.name, text: text), toRoom: slot, except: id)
        messagesRelayed &+= 1
        remember(.chat, room: room.name, key: room.key, sender: state.name, text: text)
        reply(id, "say", room.name)
    }

    private func me(_ text: ArraySlice<UInt8>, from id: ClientID) {
        guard let slot = currentRoom(of: id), let state = client(id), let room = room(slot) else { return }
        broadcast(.action(room: room.name, from: state.name, text: text), toRoom: slot, except: id)
        messagesRelayed &+= 1
        remember(.action, room: room.name, key: room.key, sender: state.name, text: text)
        reply(id, "me", room.name)
    }

    private func privateMessage(to name: String, _ text: ArraySlice<UInt8>, from id: ClientID) {
        guard let state = client(id) else { return }
        guard let target = clientID(named: name), let recipient = client(target) else {
            fail(id, .noSuchNick, "\"\(Sanitizer.printable(name.prefix(40)))\" is not online")
            return
        }
        send(.privateMessage(from: state.name, text: text), to: target)
        messagesRelayed &+= 1
        reply(id, "msg", recipient.away.map { "\(recipient.name) (away: \($0))" } ?? recipient.name)
    }

    // MARK: Identity

    private func nick(_ name: String, from id: ClientID) {
        guard let state = client(id) else { return }
        guard NameRules.isValidName(Substring(name)) else {
            fail(id, .nickInvalid, "\"\(Sanitizer.printable(name.prefix(40)))\" is not a valid name: use 1-30 of A-Z a-z 0-9 _-.[]{}^| starting with a letter")
            return
        }
        if let owner = clientID(named: name), owner != id {
            fail(id, .nickInUse, "the name \"\(name)\" is taken")
            return
        }
        let key = NameRules.fold(name)
        let ownAccount = state.account.map(NameRules.fold)
        if isOperatorName(key) && ownAccount != key {
            fail(id, .nickRegistered, "\(name) is reserved for a server operator")
            return
        }
        // A name whose registration is still being hashed is already taken: otherwise a guest
        // could claim it meanwhile and the registrant's login would take it from under them.
        if accounts[key] != nil || registering.contains(key), ownAccount != key {
            let shown = accounts[key]?.name ?? name
            fail(id, .nickRegistered, "\(shown) is a registered name: /login \(shown) PASSWORD")
            return
        }
        if ownAccount != nil && ownAccount != key {
            fail(id, .alreadyLoggedIn, "you are logged in as \(state.account ?? ""); /logout to use another name")
            return
        }
        if let ban = activeBan(key) {
            fail(id, .banned, "the name \(name) is banned" + banSuffix(ban))
            return
        }
        if state.name != name { rename(id, to: name, chosen: true) }
        reply(id, "nick", name)
    }

    private func away(_ text: String?, from id: ClientID) {
        if let text, text.utf8.count > limits.maxAwayBytes {
            fail(id, .textTooLong, "away messages are limited to \(limits.maxAwayBytes) bytes")
            return
        }
        update(id) { $0.away = text }
        reply(id, "away", text == nil ? "cleared" : "set")
    }

    private func whois(_ name: String, for id: ClientID) {
        guard let target = clientID(named: name), let state = client(target) else {
            fail(id, .noSuchNick, "\"\(Sanitizer.printable(name.prefix(40)))\" is not online")
            return
        }
        let roomNames = state.rooms.compactMap { room($0)?.name }.joined(separator: " ")
        var text = "\(state.name) from \(state.address) in \(roomNames.isEmpty ? "no rooms" : roomNames)"
        if let away = state.away { text += " away: \(away)" }
        reply(id, "whois", text)
    }

    private func quit(_ reason: String?, from id: ClientID) {
        reply(id, "quit", "goodbye")
        dismiss(id, reason: reason.map { Self.prefix($0, maxBytes: limits.maxReasonBytes) } ?? "quit")
    }

    // MARK: Rooms

    private func join(_ name: String, key: String?, from id: ClientID) {
        guard let state = client(id) else { return }
        guard NameRules.isValidRoom(Substring(name)) else {
            fail(id, .roomInvalid, "\"\(Sanitizer.printable(name.prefix(60)))\" is not a valid room name: use # and 1-49 of A-Z a-z 0-9 _ - .")
            return
        }
        if let slot = roomSlot(named: name), state.rooms.contains(slot), let room = room(slot) {
            makeCurrent(slot, for: id)
            reply(id, "join", "\(room.name) (already a member; now your current room)")
            return
        }
        guard state.rooms.count < limits.maxRoomsPerClient else {
            fail(id, .tooManyRooms, "you are in \(state.rooms.count) rooms, the most allowed; /part one first")
            return
        }
        let existing = roomSlot(named: name)
        if let existing, let room = room(existing), !mayJoin(id, room, key: key) { return }
        if existing == nil && roomCount >= limits.maxRooms {
            fail(id, .tooManyRooms, "the server has \(roomCount) rooms, the most it allows; join an existing one")
            return
        }
        let slot = existing ?? createRoom(name)
        if existing == nil { claimOwnership(ofRoom: slot, by: id) }
        addMember(id, toRoom: slot)
        guard let room = room(slot) else { return }
        var text = "\(room.name) \(room.members.count) member\(room.members.count == 1 ? "" : "s")"
        if !room.topic.isEmpty { text += ", topic: \(room.topic)" }
        reply(id, "join", text)
        _ = replay(room, count: historyReplayLines, to: id, fitting: true)
    }

    private func part(_ name: String?, reason: String?, from id: ClientID) {
        guard reasonFits(reason, id) else { return }
        let slot: Int?
        if let name { slot = memberRoom(name, of: id) } else { slot = currentRoom(of: id) }
        guard let slot, let state = client(id), let room = room(slot) else { return }
        removeMember(id, fromRoom: slot)
        broadcast(.notice(.left(name: state.name, room: room.name, reason: reason)), toRoom: slot, except: id, isNotice: true)
        let current = client(id)?.rooms.last.flatMap { self.room($0)?.name }
        reply(id, "part", "\(room.name)" + (current.map { "; current room: \($0)" } ?? "; you are in no room now"))
    }

    private func listRooms(for id: ClientID) {
        let shown = firstRooms(limits.maxListedNames)
        let cost = shown.reduce(0) { $0 + $1.name.utf8.count + $1.topic.utf8.count + Self.renderedLineOverhead }
        guard outbox.charge(id, cost) else { return }
        for room in shown {
            let members = "\(room.members.count) member\(room.members.count == 1 ? "" : "s")"
            reply(id, "rooms", room.topic.isEmpty ? "\(room.name) \(members)" : "\(room.name) \(members): \(room.topic)", final: false)
        }
        let total = roomCount
        reply(id, "rooms", "\(total) room\(total == 1 ? "" : "s")" + shownSuffix(total))
    }

    private func who(_ name: String?, for id: ClientID) {
        let slot: Int?
        if let name {
            guard NameRules.isValidRoom(Substring(name)) else {
                fail(id, .roomInvalid, "\"\(Sanitizer.printable(name.prefix(60)))\" is not a valid room name")
                return
            }
            slot = roomSlot(named: name)
            if slot == nil {
                fail(id, .noSuchRoom, "there is no room \(name)")
                return
            }
        } else {
            slot = currentRoom(of: id)
        }
        guard let slot, let room = room(slot) else { return }
        let listed = min(room.members.count, limits.maxListedNames)
        guard outbox.charge(id, listed * (room.name.utf8.count + NameRules.maxNameLength + Self.renderedLineOverhead)) else { return }
        for member in room.members.prefix(limits.maxListedNames) {
            guard let state = client(member) else { continue }
            reply(id, "who", state.away == nil ? "\(room.name) \(state.name)" : "\(room.name) \(state.name) (away)", final: false)
        }
        let count = room.members.count
        reply(id, "who", "\(room.name) \(count) member\(count == 1 ? "" : "s")" + shownSuffix(count))
    }

    private func users(for id: ClientID) {
        let names = someNames(limits.maxListedNames)
        guard outbox.charge(id, names.count * (NameRules.maxNameLength + Self.renderedLineOverhead)) else { return }
        for name in names { reply(id, "users", name, final: false) }
        reply(id, "users", "\(authorisedCount) online" + shownSuffix(authorisedCount))
    }

    private func shownSuffix(_ count: Int) -> String {
        count > limits.maxListedNames ? " (first \(limits.maxListedNames) shown)" : ""
    }

    private func topic(_ name: String, text: String?, from id: ClientID) {
        guard let text else {
            guard NameRules.isValidRoom(Substring(name)), let slot = roomSlot(named: name), let room = room(slot) else {
                fail(id, .noSuchRoom, "there is no room \(Sanitizer.printable(name.prefix(60)))")
                return
            }
            reply(id, "topic", room.topic.isEmpty ? "\(room.name) has no topic" : "\(room.name): \(room.topic)")
            return
        }
        guard let slot = memberRoom(name, of: id), let state = client(id), let room = room(slot) else { return }
        guard !room.hasOwner || isOwner(id, of: room) else {
            fail(id, .notOwner, "only the owner of \(room.name) may set its topic")
            return
        }
        guard text.utf8.count <= limits.maxTopicBytes else {
            fail(id, .topicTooLong, "topics are limited to \(limits.maxTopicBytes) bytes")
            return
        }
        setTopic(text, ofRoom: slot, by: state.name)
        broadcast(.notice(.topic(room: room.name, by: state.name, text: text)), toRoom: slot, except: id)
        reply(id, "topic", "\(room.name) set")
    }

    private func help(for id: ClientID) {
        let entries = CommandParser.help + CommandParser.accountHelp
        for entry in entries {
            let padded = entry.usage + String(repeating: " ", count: max(1, 24 - entry.usage.count))
            reply(id, "help", "\(padded)\(entry.summary)", final: false)
        }
        reply(id, "help", "\(entries.count) commands; a line that is not a command is said in your current room")
    }
}
