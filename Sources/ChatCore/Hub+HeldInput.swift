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
extension Hub {
    /// Marks a password command pending: later input waits until `endPending`.
    func beginPending(_ id: ClientID) {
        update(id) { $0.authInFlight = true }
        inputHoldChanges.append(id)
    }

    /// The pending password command has been answered: run what was held.
    func endPending(_ id: ClientID) {
        update(id) { $0.authInFlight = false }
        releaseHeldInput(id)
    }

    /// Keeps one event for later; a client that sends more than `maxHeldInputBytes` meanwhile
    /// is disconnected, since nothing may be dropped without breaking the reply order.
    func hold(_ event: LineFramer.Event, from id: ClientID) {
        guard let state = client(id) else { return }
        let cost = Self.heldCost(event)
        guard state.heldInputBytes + cost <= authLimits.maxHeldInputBytes else {
            update(id) {
                $0.heldInput = []
                $0.heldInputBytes = 0
            }
            expel(id, .flood, "more than \(authLimits.maxHeldInputBytes / 1024) KiB sent while a password command was pending; closing the connection", reason: "flooding")
            return
        }
        update(id) {
            $0.heldInput.append(event)
            $0.heldInputBytes += cost
        }
    }

    /// Runs held input in order until a line starts password work again (the rest stays held)
    /// or none is left (reading resumes).
    private func releaseHeldInput(_ id: ClientID) {
        guard let state = client(id), !state.authInFlight else { return }
        let events = state.heldInput
        if !events.isEmpty {
            update(id) {
                $0.heldInput = []
                $0.heldInputBytes = 0
            }
            var index = 0
            while index < events.count, client(id)?.authInFlight == false {
                handle(events[index], from: id)
                index += 1
            }
            if index < events.count {
                guard client(id) != nil else { return }  // a held /quit, or expelled
                let rest = events[index...]
                update(id) {
                    $0.heldInput = Array(rest) + $0.heldInput
                    $0.heldInputBytes = $0.heldInput.reduce(0) { $0 + Self.heldCost($1) }
                }
                return
            }
        }
        if client(id) != nil { inputHoldChanges.append(id) }
    }

    /// Bytes charged for a held event: its text plus the bookkeeping around it, so that many
    /// tiny lines cannot hold much more memory than the bound says.
    private static func heldCost(_ event: LineFramer.Event) -> Int {
        let overhead = 48
        if case .line(let line) = event { return line.count + overhead }
        return overhead
    }
}
