/// Reading history back: the replay on join and `/history`.
enum HistoryCommands {
    static let entries: [CommandEntry] = [
        CommandEntry("history", [.optionalHashRoom, .optionalCount], help: "show a room's latest lines again (marked HISTORY, with UTC times)") {
            showHistory($0, $1.arguments.text(0), count: $1.arguments.number(1), for: $1.client)
        },
    ]

    /// Sends a room's latest `count` lines to `id`, each marked as history and labelled with the
    /// room's current display name. Charged against the client's output limit first: a client
    /// that cannot take the replay is cut, and nothing is rendered for it.
    ///
    /// Each line's body is rendered once, by the first replay that needs it; a replay copies
    /// the bodies into one message, so a joiner costs one publish and one delivery however many lines it gets.
    ///
    /// The replay on join never cuts anyone: it starts with the newest lines that fit what the
    /// client may still be sent (all of them, unless the hard limit is set very low).
    /// `skippingNewest`: that many of the newest lines are left out (a replay that waited for a
    /// cluster node's history read: the client saw those live).
    static func replay(_ hub: Hub, _ room: Room, count: Int, to id: ClientID, fitting: Bool = false, skippingNewest skipped: Int = 0) -> Int {
        replay(hub, name: room.name, key: room.key, count: count, to: id, fitting: fitting, skippingNewest: skipped)
    }

    /// The same, for the room with display name `name` and key `key`.
    static func replay(_ hub: Hub, name: String, key: String, count: Int, to id: ClientID, fitting: Bool = false, skippingNewest skipped: Int = 0) -> Int {
        guard count > 0, hub.roomHistory.book != nil else { return 0 }
        let style = hub.clients.style(of: id)
        let allowance = fitting ? hub.router.outbox.allowance(of: id) : .max
        let overhead = name.utf8.count + Hub.renderedLineOverhead
        if let prefix = style.historyReplayLinePrefix(room: name) {
            // The book frames the lines (sliding the last replay) and reads the cost from the
            // framed lengths: the same figure as below, each body plus `overhead`.
            guard let (lines, cost, dropped) = hub.roomHistory.book?.frameRecent(key: key, count: count, skippingNewest: skipped, prefix: prefix,
                                                                                 extraPerLine: overhead - prefix.count - 1, fitting: allowance)
            else { return 0 }
            return deliverReplay(hub, lines: lines - dropped, cost: cost, to: id) { hub.roomHistory.book?.appendFramed(fromLine: dropped, into: &$0) }
        }
        // The bodies are walked in the ring (no array of them): once for their cost, once more
        // to drop the oldest when they do not fit (rare), once to render.
        var lines = 0
        var cost = 0
        hub.roomHistory.book?.forEachRecentBodySize(key: key, count: count, skippingNewest: skipped) { size in
            lines += 1
            cost += size + overhead
        }
        var dropped = 0
        if cost > allowance {
            hub.roomHistory.book?.forEachRecentBodySize(key: key, count: count, skippingNewest: skipped) { size in
                guard cost > allowance else { return }
                cost -= size + overhead
                dropped += 1
            }
        }
        let shown = lines - dropped
        return deliverReplay(hub, lines: shown, cost: cost, to: id) { out in
            style.renderHistoryReplay(room: name, lineCount: shown, forEachBody: { visit in
                hub.roomHistory.book?.forEachRecentBody(key: key, count: shown, skippingNewest: skipped, visit)
            }, into: &out)
        }
    }

    /// Charges a replay of `lines` lines costing `cost`, then renders it with `render` as one
    /// message for `id` alone; returns the lines sent.
    private static func deliverReplay(_ hub: Hub, lines: Int, cost: Int, to id: ClientID, _ render: (inout [UInt8]) -> Void) -> Int {
        if lines <= 0 { return 0 }
        guard hub.router.outbox.charge(id, cost) else { return 0 }
        hub.router.outbox.deliver(hub.router.outbox.publishOwn(render), to: id)
        return lines
    }

    /// `/history [#room] [n]`: the room's last `n` lines (default: the replay count, at most
    /// what the ring keeps), then one `OK history` line. Only members may read a room's history.
    private static func showHistory(_ hub: Hub, _ name: String?, count: Int?, for id: ClientID) {
        guard let linesPerRoom = hub.roomHistory.book?.linesPerRoom else { return hub.fail(id, .historyOff, "this server keeps no history") }
        guard let slot = ArgumentCheck.chosenOrCurrentRoom(hub, name, of: id), let room = hub.rooms[slot] else { return }
        let replayLines = hub.roomHistory.replayLines
        let wanted = count ?? (replayLines > 0 ? replayLines : HistoryBook.defaultReplayLines)
        guard wanted >= 1 && wanted <= linesPerRoom else {
            return hub.fail(id, .usage, "/history shows 1 to \(linesPerRoom) lines")
        }
        var cost = 0
        hub.roomHistory.book?.forEachRecentBodySize(key: room.key, count: wanted) { cost += $0 + room.name.utf8.count + Hub.renderedLineOverhead }
        if cost > Int(hub.router.outbox.fullAllowance) {  // could never fit: refuse rather than cut
            return hub.fail(id, .outputLimit, "\(wanted) lines of \(room.name) would pass your output limit; ask for fewer")
        }
        let shown = replay(hub, room, count: wanted, to: id)
        hub.reply(id, "history", "\(room.name) \(shown) line\(shown == 1 ? "" : "s")")
    }
}
