/// Input that waits while a client's password command is unanswered.
///
/// A password command is answered later than it is read (the hash runs on another thread,
/// an account change waits for the database). Handling the client's next lines meanwhile
/// would answer them first, or let `/logout` slip in before `/passwd` lands. So while
/// `authInFlight` is set (`isHoldingInput`), the I/O layer frames no more of the client's
/// bytes (they wait, unparsed, in its held input) and stops reading its socket (told through
/// `inputHoldChanges`), as flood control does. Anything handed to the hub meanwhile anyway
/// (a shutdown framing everything, a final partial line) is held here in order. When the
/// reply is sent, what the hub held runs first, up to the next password command, then the
/// I/O layer frames the rest. Replies therefore pair with commands, in order.
extension PasswordFlow {
    /// Marks a password command pending: later input waits until `endPending`.
    static func beginPending(_ hub: Hub, _ id: ClientID) {
        hub.clients.setAuthInFlight(id, true)
        hub.inputHoldChanges.append(id)
    }

    /// The pending password command has been answered: run what was held.
    static func endPending(_ hub: Hub, _ id: ClientID) {
        hub.clients.setAuthInFlight(id, false)
        releaseHeldInput(hub, id)
    }

    /// Keeps one event for later; a client that sends more than `maxHeldInputBytes` meanwhile
    /// is disconnected, since nothing may be dropped without breaking the reply order.
    static func hold(_ hub: Hub, _ event: LineFramer.Event, from id: ClientID) {
        guard let state = hub.clients[id] else { return }
        let cost = heldCost(event)
        let limit = hub.accountBook.limits.maxHeldInputBytes
        guard state.heldInputBytes + cost <= limit else {
            _ = hub.clients.takeHeldInput(id)
            hub.expel(id, .flood, "more than \(limit / 1024) KiB sent while a password command was pending; closing the connection", reason: "flooding")
            return
        }
        hub.clients.hold(event, cost: cost, id)
    }

    /// Runs held input in order until a line starts password work again (the rest stays held)
    /// or none is left (reading resumes).
    private static func releaseHeldInput(_ hub: Hub, _ id: ClientID) {
        guard let state = hub.clients[id], !state.authInFlight else { return }
        let events = hub.clients.takeHeldInput(id)
        var index = 0
        while index < events.count, hub.clients[id]?.authInFlight == false {
            hub.handle(events[index], from: id)
            index += 1
        }
        if index < events.count {
            guard hub.clients[id] != nil else { return }  // a held /quit, or expelled
            let rest = events[index...]
            hub.clients.holdAgain(rest, cost: rest.reduce(0) { $0 + heldCost($1) }, id)
            return
        }
        if hub.clients[id] != nil { hub.inputHoldChanges.append(id) }
    }

    /// Bytes charged for a held event: its text plus the bookkeeping around it, so that many
    /// tiny lines cannot hold much more memory than the bound says.
    private static func heldCost(_ event: LineFramer.Event) -> Int {
        let overhead = 48
        if case .line(let line) = event { return line.count + overhead }
        return overhead
    }
}
