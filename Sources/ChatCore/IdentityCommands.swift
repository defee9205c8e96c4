/// Who a client is: `/nick`, `/away`, `/whois`.
enum IdentityCommands {
    static let entries: [CommandEntry] = [
        CommandEntry("nick", [.word("NAME")], help: "choose your name (1-30 of A-Z a-z 0-9 _-.[]{}^|, starting with a letter)") {
            nick($0, $1.arguments.word(0), from: $1.client)
        },
        CommandEntry("away", [.optionalText("text")], help: "mark yourself away (no text: back again)") { away($0, $1.arguments.text(0), from: $1.client) },
        CommandEntry("whois", [.word("NAME")], help: "show who someone is") { whois($0, $1.arguments.word(0), for: $1.client) },
    ]

    private static func nick(_ hub: Hub, _ name: String, from id: ClientID) {
        guard let state = hub.clients[id] else { return }
        guard NameRules.isValidName(Substring(name)) else { return hub.refuse(id, .invalidName(name)) }
        if let owner = hub.clients.id(named: name), owner != id { return hub.refuse(id, .nameTaken(name)) }
        if hub.cluster?.client(named: name) != nil { return hub.refuse(id, .nameTaken(name)) }
        let key = NameRules.fold(name)
        let ownAccount = state.account.map(NameRules.fold)
        let book = hub.accountBook
        if book.isOperatorName(key) && ownAccount != key { return hub.refuse(id, .operatorName(name, .nickRegistered)) }
        // A name whose registration is still being hashed is already taken: otherwise a guest
        // could claim it meanwhile and the registrant's login would take it from under them.
        if book.isTaken(key), ownAccount != key {
            let shown = book.accounts[key]?.name ?? name
            return hub.fail(id, .nickRegistered, "\(shown) is a registered name: /login \(shown) PASSWORD")
        }
        if let account = state.account, ownAccount != key {
            return hub.refuse(id, .loggedIn(as: account, "/logout to use another name"))
        }
        if let ban = hub.accountBook.activeBan(key, now: hub.now) { return hub.refuse(id, .nameBanned(name, ban)) }
        if state.name != name { hub.rename(id, to: name, chosen: true) }
        hub.reply(id, "nick", name)
    }

    private static func away(_ hub: Hub, _ text: String?, from id: ClientID) {
        if let text, text.utf8.count > hub.limits.maxAwayBytes {
            return hub.refuse(id, .textTooLong("away messages", hub.limits.maxAwayBytes))
        }
        hub.clients.setAway(id, text)
        hub.reply(id, "away", text == nil ? "cleared" : "set")
    }

    private static func whois(_ hub: Hub, _ name: String, for id: ClientID) {
        guard let target = hub.clients.id(named: name), let state = hub.clients[target] else {
            guard let remote = hub.cluster?.client(named: name) else { return hub.refuse(id, .notOnline(name)) }
            let roomNames = remote.rooms.joined(separator: " ")
            return hub.reply(id, "whois", "\(remote.name) from \(remote.address) in \(roomNames.isEmpty ? "no rooms" : roomNames) (on node \(remote.node))")
        }
        let roomNames = state.rooms.compactMap { hub.rooms[$0]?.name }.joined(separator: " ")
        var text = "\(state.name) from \(state.address) in \(roomNames.isEmpty ? "no rooms" : roomNames)"
        if let away = state.away { text += " away: \(away)" }
        hub.reply(id, "whois", text)
    }
}
