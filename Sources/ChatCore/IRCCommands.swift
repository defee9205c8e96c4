/// IRC commands mapped onto the hub. Registration is `IRCRegistration`'s (pure); after it, each
/// command reaches the same parts the native commands use (rooms, names, history, accounts),
/// with IRC's numerics for answers and errors. Room state is read through the hub's tables,
/// never copied. Commands IRC does not have (`REGISTER`, `LOGIN`, `HISTORY`, `ROOMS`, `HELP`…)
/// run as chatd's own commands, so `/register NAME PASSWORD` typed in irssi works; their
/// replies are server notices.
///
/// Supported: CAP, PASS, NICK, USER, AUTHENTICATE (SASL PLAIN), PING, PONG, QUIT, JOIN, PART,
/// PRIVMSG, NOTICE (CTCP ACTION is `/me`), TOPIC, NAMES, LIST, WHO, WHOIS, AWAY, MODE, KICK,
/// OPER, KILL, MOTD, LUSERS.
enum IRCCommands {
    // MARK: Input

    /// One framed line from an IRC client.
    static func receive(_ line: [UInt8], from id: ClientID, in hub: Hub) {
        guard let (registered, echo) = hub.ircSessions.heard(id, at: hub.now) else { return }
        if registered && !echo, let (slot, text) = plainChannelMessage(line, from: id, in: hub) {
            TalkCommands.relay(hub, .chat, text, in: slot, from: id)
            return
        }
        guard let session = hub.ircSessions[id] else { return }
        let message: IRCMessage
        switch IRCMessage.parse(line) {
        case .empty: return
        case .tooLong:
            hub.counters.linesTooLong &+= 1
            return numeric(hub, id, .inputTooLong, "Input line was too long")
        case .message(let parsed): message = parsed
        }
        guard session.isRegistered else { return register(message, from: id, in: hub) }
        switch message.command {
        case "PING": send(hub, id, IRCMessage(source: IRCNames.server, "PONG", [IRCNames.server, message.params.first ?? ""]))
        case "PONG": hub.ircSessions[id]?.pingSentAt = nil
        case "QUIT": quit(hub, id, message.params.first)
        case "CAP": capability(message, from: id, in: hub)
        case "PASS", "USER": numeric(hub, id, .alreadyRegistered, "You may not reregister")
        case "AUTHENTICATE": numeric(hub, id, .saslAlready, "You have already authenticated using SASL")
        case "NICK": nick(hub, id, message.params.first)
        case "JOIN": join(hub, id, message.params)
        case "PART": part(hub, id, message.params)
        case "PRIVMSG": talk(hub, id, message.params, isNotice: false)
        case "NOTICE": talk(hub, id, message.params, isNotice: true)
        case "TOPIC": topic(hub, id, message.params)
        case "NAMES": names(hub, id, message.params)
        case "LIST": list(hub, id)
        case "WHO": who(hub, id, message.params)
        case "WHOIS": whois(hub, id, message.params)
        case "AWAY": away(hub, id, message.params.first)
        case "MODE": mode(hub, id, message.params)
        case "KICK": kick(hub, id, message.params)
        case "OPER": oper(hub, id, message.params)
        case "KILL": kill(hub, id, message.params)
        case "MOTD": for line in IRCWelcome.motdLines(nick: nickOf(hub, id), motd: hub.motd) { send(hub, id, line) }
        case "LUSERS": for line in IRCWelcome.luserLines(nick: nickOf(hub, id), counts: counts(hub)) { send(hub, id, line) }
        default: native(hub, id, message)
        }
    }

    /// The hot path, as cheap as a native line: `PRIVMSG #room :text` to the client's current
    /// room, one target, no tags, no CTCP, within 512 bytes. Returns the room's slot and the
    /// text as a slice of the line (nothing parsed into strings, nothing copied); nil sends
    /// the line down the general path, which handles every other shape the same way.
    private static func plainChannelMessage(_ line: [UInt8], from id: ClientID, in hub: Hub) -> (Int, ArraySlice<UInt8>)? {
        let command = "PRIVMSG #".utf8
        guard line.count + 2 <= IRCMessage.maxBodyBytes, line.starts(with: command) else { return nil }
        let targetStart = command.count - 1
        guard let space = line[targetStart...].firstIndex(of: 0x20), space + 2 < line.count, line[space + 1] == UInt8(ascii: ":") else { return nil }
        let target = line[targetStart..<space]
        let text = line[(space + 2)...]
        guard !target.contains(UInt8(ascii: ",")), !text.contains(0x01), let slot = hub.clients.currentRoom(of: id),
              let room = hub.rooms.nameAndKey(slot), room.name.utf8.elementsEqual(target) else { return nil }
        return (slot, text)
    }

    // MARK: Registration

    private static func register(_ message: IRCMessage, from id: ClientID, in hub: Hub) {
        guard var session = hub.ircSessions[id] else { return }
        let actions = session.registration.handle(message) { nickInUse(hub, $0, by: id) }
        hub.ircSessions[id] = session
        perform(actions, for: id, in: hub)
    }

    /// Whether another connection goes by `nick` (or it is banned): refused at NICK. A nick
    /// that is only reserved (a registered account, an operator) is accepted until
    /// registration completes, because SASL, which comes after NICK, may log in to it.
    static func nickInUse(_ hub: Hub, _ nick: String, by id: ClientID) -> Bool {
        if let owner = hub.clients.id(named: nick), owner != id { return true }
        return hub.accountBook.activeBan(NameRules.fold(nick), now: hub.now) != nil
    }

    /// Carries out what registration asked for.
    static func perform(_ actions: [IRCRegistration.Action], for id: ClientID, in hub: Hub) {
        for action in actions {
            switch action {
            case .send(let line): send(hub, id, line)
            case .verifySASL(let account, let password): startSASL(hub, id, account: account, password: password)
            case .complete: complete(hub, id)
            case .close(let text): close(hub, id, text, cause: .quit)
            }
        }
    }

    /// Whether `nick` is someone else's: another client's name, a registered account's or an
    /// operator's (those need SASL), or banned server-wide.
    static func nickTaken(_ hub: Hub, _ nick: String, by id: ClientID) -> Bool {
        if let owner = hub.clients.id(named: nick), owner != id { return true }
        let key = NameRules.fold(nick)
        let own = hub.clients[id]?.account.map(NameRules.fold)
        if own != key && (hub.accountBook.isTaken(key) || hub.accountBook.isOperatorName(key)) { return true }
        return hub.accountBook.activeBan(key, now: hub.now) != nil
    }

    /// Registration is complete: check the server password, take the nick, say 001–005,
    /// LUSERS and the MOTD, and switch to the style the capabilities ask for.
    private static func complete(_ hub: Hub, _ id: ClientID) {
        guard let state = hub.clients[id], let session = hub.ircSessions[id] else { return }
        if !state.authorised, let check = hub.accountBook.serverPassword {
            guard let given = session.registration.password, check(given) else {
                send(hub, id, IRCMessage(source: IRCNames.server, IRCNumeric.passwordMismatch.rawValue, [session.registration.target, "Password incorrect"]))
                return close(hub, id, "Bad password", cause: .badPassword)
            }
            hub.clients.admit(id)
        }
        var nick = session.registration.nick ?? state.name
        if state.account != nil {
            nick = state.name  // logged in by SASL: the account's name
        } else if nickTaken(hub, nick, by: id) {
            let why = nickInUse(hub, nick, by: id) ? "Nickname is already in use" : "Nickname is registered; log in with SASL"
            send(hub, id, IRCMessage(source: IRCNames.server, IRCNumeric.nicknameInUse.rawValue, ["*", nick, why]))
            hub.ircSessions[id]?.registration.forgetNick()
            hub.ircSessions[id]?.registration.reopen()
            return
        }
        if hub.clients[id]?.name != nick { hub.rename(id, to: nick, chosen: true) }
        hub.changeStyle(id, to: .irc(session.capabilities))
        for line in IRCWelcome.lines(nick: nick, limits: hub.limits, motd: hub.motd, counts: counts(hub)) { send(hub, id, line) }
    }

    private static func counts(_ hub: Hub) -> IRCWelcome.Counts {
        IRCWelcome.Counts(users: hub.authorisedCount, channels: hub.roomCount)
    }

    /// `CAP` after registration: LS, LIST and REQ work as before it; a REQ that changes
    /// server-time or batch changes the client's style.
    private static func capability(_ message: IRCMessage, from id: ClientID, in hub: Hub) {
        guard var session = hub.ircSessions[id] else { return }
        let actions = session.registration.handle(message) { nickTaken(hub, $0, by: id) }
        hub.ircSessions[id] = session
        perform(actions, for: id, in: hub)
        hub.changeStyle(id, to: .irc(session.capabilities))
    }

    // MARK: SASL (checked off the loop, exactly as /login)

    /// Starts the password check for SASL PLAIN on the hashing thread, as `/login` does; the
    /// client's later lines wait meanwhile (PasswordFlow+HeldInput.swift), `CAP END` included.
    private static func startSASL(_ hub: Hub, _ id: ClientID, account: String, password: [UInt8]) {
        guard PasswordFlow.ready(hub, id) else {
            perform(hub.ircSessions[id]?.registration.saslFinished(account: nil) ?? [], for: id, in: hub)
            return
        }
        let book = hub.accountBook
        let stored = book.credential(forKey: NameRules.fold(account))?.account.hash ?? book.decoyHash
        PasswordFlow.start(hub, id, .login(name: account), .verify(password, against: stored))
    }

    /// A login finished for `id`: if it was a SASL exchange, answer 900/903 or 904 (and complete
    /// registration if it waited for this) and return true; false for a native `/login`.
    static func loginFinished(_ hub: Hub, _ id: ClientID, account: String?) -> Bool {
        guard var session = hub.ircSessions[id], session.registration.sasl == .verifying else { return false }
        let actions = session.registration.saslFinished(account: account)
        hub.ircSessions[id] = session
        perform(actions, for: id, in: hub)
        return true
    }

    // MARK: Session

    private static func quit(_ hub: Hub, _ id: ClientID, _ reason: String?) {
        let text = "Quit: " + (reason ?? "").prefix(maxBytes: hub.limits.maxReasonBytes)
        close(hub, id, text, cause: .quit, quitReason: text)
    }

    /// `ERROR :text`, then the connection closes once that is written; its rooms hear `quitReason`.
    static func close(_ hub: Hub, _ id: ClientID, _ text: String, cause: DisconnectReason, quitReason: String? = nil) {
        send(hub, id, IRCMessage("ERROR", [text]))
        hub.dismiss(id, reason: quitReason ?? text, cause: cause)
    }

    private static func nick(_ hub: Hub, _ id: ClientID, _ wanted: String?) {
        guard let wanted, !wanted.isEmpty else { return numeric(hub, id, .noNicknameGiven, "No nickname given") }
        guard let state = hub.clients[id] else { return }
        guard IRCNames.isValidNick(Substring(wanted)) else { return numeric(hub, id, .erroneousNickname, wanted, "Erroneous nickname") }
        if state.name == wanted { return }
        if let account = state.account, NameRules.fold(account) != NameRules.fold(wanted) {
            return numeric(hub, id, .erroneousNickname, wanted, "You are logged in as \(account); log out first")
        }
        if nickTaken(hub, wanted, by: id) { return numeric(hub, id, .nicknameInUse, wanted, "Nickname is already in use") }
        let old = state.name
        hub.rename(id, to: wanted, chosen: true)
        send(hub, id, IRCMessage(source: IRCNames.prefix(of: old), "NICK", [wanted]))
    }

    // MARK: Channels

    /// `JOIN #a,#b key1,key2` (or `JOIN 0`: part every channel). Stops at the first channel
    /// over the per-client limit with one 405, so a JOIN of 1,000 channels costs one answer.
    private static func join(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        guard let list = params.first, !list.isEmpty else { return numeric(hub, id, .needMoreParams, "JOIN", "Not enough parameters") }
        if list == "0" {
            let rooms = hub.clients[id]?.rooms.compactMap { hub.rooms.nameAndKey($0)?.name } ?? []
            for room in rooms { partOne(hub, id, room, reason: nil) }
            return
        }
        let keys = params.count > 1 ? params[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
        for (position, name) in list.split(separator: ",").enumerated() {
            let key = position < keys.count && !keys[position].isEmpty ? keys[position] : nil
            if !joinOne(hub, id, String(name), key: key) { break }
        }
    }

    /// Joins one channel; false when the client can join no more.
    private static func joinOne(_ hub: Hub, _ id: ClientID, _ name: String, key: String?) -> Bool {
        guard let state = hub.clients[id] else { return false }
        guard NameRules.isValidRoom(Substring(name)) else {
            numeric(hub, id, IRCNames.isChannel(Substring(name)) ? .badChannelName : .noSuchChannel, name, "Illegal channel name")
            return true
        }
        let existing = hub.rooms.slot(named: name)
        if let existing, state.rooms.contains(existing) { return true }
        guard state.rooms.count < hub.limits.maxRoomsPerClient else {
            numeric(hub, id, .tooManyChannels, name, "You have joined too many channels")
            return false
        }
        let elsewhere = existing == nil ? hub.clusterRoom(named: name) : nil  // a room only on other nodes of a cluster
        if let room = existing.flatMap({ hub.rooms[$0] }) ?? elsewhere, !hub.isOwner(id, of: room) {
            if room.bans(state) {
                numeric(hub, id, .bannedFromChannel, room.name, "Cannot join channel (+b)")
                return true
            }
            if let needed = room.joinKey, needed != key {
                numeric(hub, id, .badChannelKey, room.name, "Cannot join channel (+k)")
                return true
            }
        }
        if existing == nil && hub.rooms.count >= hub.limits.maxRooms {
            numeric(hub, id, .tooManyChannels, name, "The server has too many channels")
            return false
        }
        let slot = existing ?? hub.createRoom(name)
        if existing == nil && elsewhere == nil {
            hub.rooms.setOwner(account: state.account.map(NameRules.fold), client: id, of: slot)
            hub.clusterRulesChanged(slot, by: state.name)
        }
        hub.addMember(id, toRoom: slot)
        guard let room = hub.rooms[slot] else { return true }
        send(hub, id, IRCMessage(source: IRCNames.prefix(of: state.name), "JOIN", [room.name]))
        sendTopic(hub, id, room, evenIfEmpty: false)
        sendNames(hub, id, room)
        hub.replayOnJoin(room, to: id)
        return true
    }

    private static func part(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        guard let list = params.first, !list.isEmpty else { return numeric(hub, id, .needMoreParams, "PART", "Not enough parameters") }
        let reason = params.count > 1 ? params[1].prefix(maxBytes: hub.limits.maxReasonBytes) : nil
        for name in list.split(separator: ",") { partOne(hub, id, String(name), reason: reason) }
    }

    private static func partOne(_ hub: Hub, _ id: ClientID, _ name: String, reason: String?) {
        guard let slot = memberSlot(hub, id, name), let leaver = hub.clients.name(of: id), let room = hub.rooms.nameAndKey(slot)?.name else { return }
        hub.removeMember(id, fromRoom: slot)
        hub.broadcast(.notice(.left(name: leaver, room: room, reason: reason)), toRoom: slot, except: id, isNotice: true)
        send(hub, id, IRCMessage(source: IRCNames.prefix(of: leaver), "PART", reason.map { [room, $0] } ?? [room]))
    }

    /// The slot of a channel the client is in, or 403/442 sent.
    private static func memberSlot(_ hub: Hub, _ id: ClientID, _ name: String) -> Int? {
        guard NameRules.isValidRoom(Substring(name)), let slot = hub.rooms.slot(named: name) else {
            numeric(hub, id, .noSuchChannel, name, "No such channel")
            return nil
        }
        guard hub.clients[id]?.rooms.contains(slot) == true else {
            numeric(hub, id, .notOnChannel, name, "You're not on that channel")
            return nil
        }
        return slot
    }

    private static func existingRoom(_ hub: Hub, _ id: ClientID, _ name: String) -> Room? {
        guard NameRules.isValidRoom(Substring(name)), let slot = hub.rooms.slot(named: name), let room = hub.rooms[slot] else {
            numeric(hub, id, .noSuchChannel, name, "No such channel")
            return nil
        }
        return room
    }

    private static func sendTopic(_ hub: Hub, _ id: ClientID, _ room: Room, evenIfEmpty: Bool) {
        if room.topic.isEmpty {
            if evenIfEmpty { numeric(hub, id, .noTopic, room.name, "No topic is set") }
            return
        }
        numeric(hub, id, .topic, room.name, room.topic)
        if let setter = room.topicSetBy {
            numeric(hub, id, .topicWhoTime, room.name, setter, String(Int(room.topicSetAt)))
        }
    }

    /// 353 lines (each within IRC's 512 bytes) and 366. Owners get `@` (multi-prefix changes
    /// nothing: a member has at most one prefix).
    private static func sendNames(_ hub: Hub, _ id: ClientID, _ room: Room) {
        let nick = nickOf(hub, id)
        let listed = room.members.prefix(hub.limits.maxListedNames)
        guard hub.router.outbox.charge(id, listed.count * (NameRules.maxNameLength + 2) + Hub.renderedLineOverhead * 4) else { return }
        var line = ""
        let budget = IRCMessage.maxBodyBytes - 2 - (IRCNames.server.utf8.count + nick.utf8.count + room.name.utf8.count + 16)
        for member in listed {
            guard let name = hub.clients.name(of: member) else { continue }
            let entry = (hub.isOwner(member, of: room) ? "@" : "") + name
            if !line.isEmpty && line.utf8.count + 1 + entry.utf8.count > budget {
                numeric(hub, id, .namesReply, "=", room.name, line)
                line = ""
            }
            line += line.isEmpty ? entry : " " + entry
        }
        if !line.isEmpty { numeric(hub, id, .namesReply, "=", room.name, line) }
        numeric(hub, id, .endOfNames, room.name, "End of /NAMES list")
    }

    private static func names(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        guard let name = params.first?.split(separator: ",").first.map(String.init) else {
            return numeric(hub, id, .endOfNames, "*", "End of /NAMES list")
        }
        guard NameRules.isValidRoom(Substring(name)), let slot = hub.rooms.slot(named: name), let room = hub.rooms[slot] else {
            return numeric(hub, id, .endOfNames, name, "End of /NAMES list")
        }
        sendNames(hub, id, room)
    }

    private static func topic(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        guard let name = params.first else { return numeric(hub, id, .needMoreParams, "TOPIC", "Not enough parameters") }
        guard params.count > 1 else {
            guard let room = existingRoom(hub, id, name) else { return }
            return sendTopic(hub, id, room, evenIfEmpty: true)
        }
        guard let slot = memberSlot(hub, id, name), let setter = hub.clients.name(of: id), let room = hub.rooms[slot] else { return }
        guard !room.hasOwner || hub.isOwner(id, of: room) else {
            return numeric(hub, id, .channelOperatorPrivilegesNeeded, room.name, "You're not channel operator")
        }
        let text = params[1].prefix(maxBytes: hub.limits.maxTopicBytes)
        hub.rooms.setTopic(text, of: slot, by: setter, at: hub.now)
        hub.remember(.topic, room: room.name, key: room.key, sender: setter, text: ArraySlice(text.utf8))
        hub.broadcast(.notice(.topic(room: room.name, by: setter, text: text)), toRoom: slot, except: id)
        send(hub, id, IRCMessage(source: IRCNames.prefix(of: setter), "TOPIC", [room.name, text]))
    }

    private static func list(_ hub: Hub, _ id: ClientID) {
        let shown = hub.rooms.first(hub.limits.maxListedNames)
        let cost = shown.reduce(0) { $0 + $1.name.utf8.count + $1.topic.utf8.count + Hub.renderedLineOverhead }
        guard hub.router.outbox.charge(id, cost) else { return }
        numeric(hub, id, .listStart, "Channel", "Users  Name")
        for room in shown { numeric(hub, id, .list, room.name, String(room.members.count), room.topic) }
        numeric(hub, id, .listEnd, "End of /LIST")
    }

    // MARK: Talking

    /// PRIVMSG and NOTICE to channels and nicks, at most `IRCSupport.maxMessageTargets` targets
    /// (more: 407, and nothing is sent). CTCP ACTION is chatd's `/me`; other CTCP requests are
    /// not relayed. A NOTICE never gets an error back (RFC 2812 §3.3.2).
    private static func talk(_ hub: Hub, _ id: ClientID, _ params: [String], isNotice: Bool) {
        let command = isNotice ? "NOTICE" : "PRIVMSG"
        guard let targets = params.first, !targets.isEmpty else {
            if !isNotice { numeric(hub, id, .noRecipient, "No recipient given (\(command))") }
            return
        }
        guard params.count > 1, !params[1].isEmpty else {
            if !isNotice { numeric(hub, id, .noTextToSend, "No text to send") }
            return
        }
        let list = targets.split(separator: ",")
        guard list.count <= IRCSupport.maxMessageTargets else {
            if !isNotice { numeric(hub, id, .tooManyTargets, targets.prefix(64) + "", "Too many targets") }
            return
        }
        var text = Array(params[1].utf8)
        var kind = HistoryEntry.Kind.chat
        if text.first == 0x01 {
            text.removeFirst()
            if text.last == 0x01 { text.removeLast() }
            guard text.starts(with: "ACTION ".utf8) else { return }  // VERSION, PING…: not relayed
            text.removeFirst(7)
            kind = .action
        }
        text.removeAll { $0 == 0x01 }  // the CTCP marker is the only control byte the framer keeps
        guard !text.isEmpty, let sender = hub.clients.name(of: id) else { return }
        let echo = hub.ircSessions[id]?.capabilities.contains(.echoMessage) == true
        for target in list.map(String.init) {
            if IRCNames.isChannel(Substring(target)) {
                guard NameRules.isValidRoom(Substring(target)), let slot = hub.rooms.slot(named: target) else {
                    if !isNotice { numeric(hub, id, .noSuchChannel, target, "No such channel") }
                    continue
                }
                guard hub.clients[id]?.rooms.contains(slot) == true else {
                    if !isNotice { numeric(hub, id, .cannotSendToChannel, target, "Cannot send to channel") }
                    continue
                }
                guard let room = TalkCommands.relay(hub, kind, text[...], in: slot, from: id) else { continue }
                if echo {
                    hub.send(kind == .action ? .action(room: room, from: sender, text: text[...]) : .chat(room: room, from: sender, text: text[...]), to: id)
                }
            } else {
                guard let recipient = hub.clients.id(named: target), let (name, away) = hub.clients.nameAndAway(of: recipient) else {
                    if !isNotice { numeric(hub, id, .noSuchNick, target, "No such nick/channel") }
                    continue
                }
                let shown: ArraySlice<UInt8> = kind == .action ? ArraySlice("* \(sender) ".utf8 + text) : text[...]
                hub.send(.privateMessage(from: sender, text: shown), to: recipient)
                hub.messagesRelayed &+= 1
                if let away, !isNotice { numeric(hub, id, .away, name, away) }
                if echo { send(hub, id, IRCMessage(source: IRCNames.prefix(of: sender), command, [name, String(decoding: shown, as: UTF8.self)])) }
            }
        }
    }

    private static func away(_ hub: Hub, _ id: ClientID, _ text: String?) {
        let message = text.flatMap { $0.isEmpty ? nil : $0.prefix(maxBytes: hub.limits.maxAwayBytes) }
        hub.clients.setAway(id, message)
        if message == nil {
            numeric(hub, id, .unaway, "You are no longer marked as being away")
        } else {
            numeric(hub, id, .nowAway, "You have been marked as being away")
        }
        notifyAway(hub, id, message)
    }

    /// away-notify: `:nick!nick@chatd AWAY [:text]` to the IRC clients that asked for it and
    /// share a room with `id`.
    private static func notifyAway(_ hub: Hub, _ id: ClientID, _ text: String?) {
        guard let state = hub.clients[id] else { return }
        let line = IRCMessage(source: IRCNames.prefix(of: state.name), "AWAY", text.map { [$0] } ?? []).bytes
        var told: Set<ClientID> = [id]
        for slot in state.rooms {
            guard let members = hub.rooms.audience(slot)?.members else { continue }
            for member in members where !told.contains(member) {
                told.insert(member)
                if hub.ircSessions[member]?.capabilities.contains(.awayNotify) == true { hub.send(.raw(line), to: member) }
            }
        }
    }

    // MARK: Queries

    private static func who(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        let mask = params.first ?? "*"
        if IRCNames.isChannel(Substring(mask)), NameRules.isValidRoom(Substring(mask)), let slot = hub.rooms.slot(named: mask), let room = hub.rooms[slot] {
            let listed = room.members.prefix(hub.limits.maxListedNames)
            guard hub.router.outbox.charge(id, listed.count * (room.name.utf8.count + 4 * NameRules.maxNameLength + Hub.renderedLineOverhead)) else { return }
            for member in listed {
                if let state = hub.clients[member] { whoLine(hub, id, room.name, state, owner: hub.isOwner(member, of: room)) }
            }
        } else if let target = hub.clients.id(named: mask), let state = hub.clients[target] {
            whoLine(hub, id, "*", state, owner: false)
        }
        numeric(hub, id, .endOfWho, mask, "End of /WHO list")
    }

    private static func whoLine(_ hub: Hub, _ id: ClientID, _ channel: String, _ state: ClientState, owner: Bool) {
        let flags = (state.away == nil ? "H" : "G") + (state.isOperatorLogin ? "*" : "") + (owner ? "@" : "")
        numeric(hub, id, .whoReply, channel, state.name, IRCNames.userHost, IRCNames.server, state.name, flags, "0 \(state.name)")
    }

    private static func whois(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        guard let name = params.last, !name.isEmpty else { return numeric(hub, id, .noNicknameGiven, "No nickname given") }
        guard let target = hub.clients.id(named: name), let state = hub.clients[target] else {
            numeric(hub, id, .noSuchNick, name, "No such nick/channel")
            return numeric(hub, id, .endOfWhois, name, "End of /WHOIS list")
        }
        numeric(hub, id, .whoisUser, state.name, state.name, IRCNames.userHost, "*", state.name)
        let rooms = state.rooms.compactMap { slot in hub.rooms[slot].map { (hub.isOwner(target, of: $0) ? "@" : "") + $0.name } }
        if !rooms.isEmpty { numeric(hub, id, .whoisChannels, state.name, rooms.joined(separator: " ")) }
        numeric(hub, id, .whoisServer, state.name, IRCNames.server, "chatd")
        numeric(hub, id, .whoisActually, state.name, state.address, "is connecting from")
        if let account = state.account { numeric(hub, id, .whoisAccount, state.name, account, "is logged in as") }
        if state.isOperatorLogin { numeric(hub, id, .whoisOperator, state.name, "is a server operator") }
        if let away = state.away { numeric(hub, id, .away, state.name, away) }
        numeric(hub, id, .endOfWhois, state.name, "End of /WHOIS list")
    }

    // MARK: Modes, kicks, operators

    /// MODE: a channel's modes (324), its ban list (`b`: 367/368), `+k`/`-k` (the key), `+b`/`-b`
    /// (room bans) and `+o` (hand the room over), all owners' rights as in chatd; a user's own
    /// `+i`/`-i` is accepted (chatd shows nobody outside shared rooms anyway).
    private static func mode(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        guard let target = params.first else { return numeric(hub, id, .needMoreParams, "MODE", "Not enough parameters") }
        let nick = nickOf(hub, id)
        guard IRCNames.isChannel(Substring(target)) else {
            guard NameRules.fold(target) == NameRules.fold(nick) else { return numeric(hub, id, .usersDontMatch, "Can't change mode for other users") }
            guard params.count > 1 else { return numeric(hub, id, .umodeIs, "+i") }
            let change = params[1]
            guard change.allSatisfy({ "+-i".contains($0) }) else { return numeric(hub, id, .umodeUnknownFlag, "Unknown MODE flag") }
            return send(hub, id, IRCMessage(source: IRCNames.prefix(of: nick), "MODE", [nick, change]))
        }
        guard let room = existingRoom(hub, id, target) else { return }
        guard params.count > 1 else {
            let member = hub.clients[id]?.rooms.contains(where: { hub.rooms[$0]?.key == room.key }) == true
            if let key = room.joinKey { return numeric(hub, id, .channelModeIs, room.name, "+k", member ? key : "*") }
            return numeric(hub, id, .channelModeIs, room.name, "+")
        }
        let change = params[1]
        let argument = params.count > 2 ? params[2] : nil
        if change == "b" || change == "+b" && argument == nil {
            for mask in banMasks(room) { numeric(hub, id, .banList, room.name, mask) }
            return numeric(hub, id, .endOfBanList, room.name, "End of channel ban list")
        }
        guard hub.isOwner(id, of: room) else { return numeric(hub, id, .channelOperatorPrivilegesNeeded, room.name, "You're not channel operator") }
        let native: String
        switch (change, argument) {
        case ("+k", let key?): native = "/key \(room.name) \(key)"
        case ("-k", _): native = "/key \(room.name)"
        case ("+b", let mask?): native = "/ban \(room.name) \(banTarget(mask))"
        case ("-b", let mask?): native = "/unban \(room.name) \(banTarget(mask))"
        case ("+o", let who?): native = "/owner \(room.name) \(who)"
        case ("+k", nil), ("-b", nil), ("+o", nil): return numeric(hub, id, .needMoreParams, "MODE", "Not enough parameters")
        default: return numeric(hub, id, .unknownMode, change, "is unknown mode char to me")
        }
        runNative(hub, id, native)
        send(hub, id, IRCMessage(source: IRCNames.prefix(of: nick), "MODE", [room.name, change] + (argument.map { [$0] } ?? [])))
    }

    /// A room's bans as IRC masks: `name!*@*` for names, `*!*@range` for addresses.
    private static func banMasks(_ room: Room) -> [String] {
        room.bannedNames.sorted().map { "\($0)!*@*" } + room.bannedRanges.map { "*!*@\($0)" }
    }

    /// The chatd ban target of an IRC mask: `nick!*@*` → nick, `*!*@address` → address.
    private static func banTarget(_ mask: String) -> String {
        if let at = mask.firstIndex(of: "@"), mask.hasPrefix("*!") { return String(mask[mask.index(after: at)...]) }
        if let bang = mask.firstIndex(of: "!") { return String(mask[..<bang]) }
        return mask
    }

    private static func kick(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        guard params.count >= 2 else { return numeric(hub, id, .needMoreParams, "KICK", "Not enough parameters") }
        guard let slot = memberSlot(hub, id, params[0]), let room = hub.rooms[slot] else { return }
        guard hub.isOwner(id, of: room) else { return numeric(hub, id, .channelOperatorPrivilegesNeeded, room.name, "You're not channel operator") }
        let victim = params[1].split(separator: ",").first.map(String.init) ?? ""
        let isMember = hub.clients.id(named: victim).map { room.members.contains($0) } ?? (hub.remoteMember(named: victim, ofRoom: room.key) != nil)
        guard isMember else {
            return numeric(hub, id, .userNotInChannel, victim, room.name, "They aren't on that channel")
        }
        let reason = params.count > 2 ? " " + params[2].prefix(maxBytes: hub.limits.maxReasonBytes) : ""
        runNative(hub, id, "/kick \(room.name) \(victim)\(reason)")
    }

    /// OPER NAME PASSWORD: chatd's operators are accounts of the operators file, so this is
    /// `/login NAME PASSWORD` (checked off the loop); the answer is a server notice.
    private static func oper(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        guard params.count >= 2 else { return numeric(hub, id, .needMoreParams, "OPER", "Not enough parameters") }
        runNative(hub, id, "/login \(params[0]) \(params[1])")
    }

    private static func kill(_ hub: Hub, _ id: ClientID, _ params: [String]) {
        guard let name = params.first else { return numeric(hub, id, .needMoreParams, "KILL", "Not enough parameters") }
        guard hub.isOperator(id) else { return numeric(hub, id, .noPrivileges, "Permission Denied- You're not an IRC operator") }
        guard hub.clients.id(named: name) != nil else { return numeric(hub, id, .noSuchNick, name, "No such nick/channel") }
        let reason = params.count > 1 ? " " + params[1].prefix(maxBytes: hub.limits.maxReasonBytes) : ""
        runNative(hub, id, "/kill \(name)\(reason)")
    }

    /// A command IRC does not have: chatd's own command of that name (`REGISTER`, `LOGIN`,
    /// `HISTORY`…), or 421.
    private static func native(_ hub: Hub, _ id: ClientID, _ message: IRCMessage) {
        let line = "/" + message.command.lowercased() + message.params.map { " " + $0 }.joined()
        let parsed = CommandParser.parse(Array(line.utf8), context: .native, table: hub.commands)
        if case .invalid(.unknownCommand, _) = parsed.command {
            return numeric(hub, id, .unknownCommand, message.command, "Unknown command")
        }
        hub.commands.execute(parsed.command, in: hub, from: id, admitted: hub.clients[id]?.authorised ?? false)
    }

    private static func runNative(_ hub: Hub, _ id: ClientID, _ line: String) {
        let parsed = CommandParser.parse(Array(line.utf8), context: .native, table: hub.commands)
        hub.commands.execute(parsed.command, in: hub, from: id, admitted: hub.clients[id]?.authorised ?? false)
    }

    // MARK: Sending

    private static func nickOf(_ hub: Hub, _ id: ClientID) -> String {
        hub.ircSessions[id]?.isRegistered == true ? hub.clients.name(of: id) ?? "*" : hub.ircSessions[id]?.registration.target ?? "*"
    }

    static func send(_ hub: Hub, _ id: ClientID, _ message: IRCMessage) { hub.send(.raw(message.bytes), to: id) }

    /// `:chatd CODE nick params…`
    static func numeric(_ hub: Hub, _ id: ClientID, _ code: IRCNumeric, _ params: String...) {
        send(hub, id, IRCMessage(source: IRCNames.server, code.rawValue, [nickOf(hub, id)] + params))
    }
}
