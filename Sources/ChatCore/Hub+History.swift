/// Room history: remembering lines as they are said, replaying them on join, `/history`, and
/// keeping a room's history no longer than the access rules that guard it.
///
/// A room that has a key or bans when it empties loses its history, in memory and on disk: the
/// key and bans live only as long as the room (IRC channel-mode semantics), and history that
/// outlived them would be readable by whoever re-creates the room — the very people they kept
/// out. The store is told as soon as a room gains a key or a ban, so a restart (even after a
/// kill -9) forgets such rooms' history too.
extension Hub {
    /// Stores a line in its room's ring and, when history is persisted, queues it for the
    /// database writer (the I/O layer hands `pendingHistory` over once per loop iteration).
    func remember(_ kind: HistoryEntry.Kind, room: String, key: String, sender: String, text: ArraySlice<UInt8>) {
        guard history != nil else { return }
        let entry = HistoryEntry(room: room, at: now, kind: kind, sender: sender, text: Array(text))
        history?.record(entry, key: key, durableBatch: historyDurableBatch)
        if persistsHistory { pendingHistory.append(entry) }
    }

    /// The store is on: from now on a batch is durable only when the writer says so.
    public func historyStartsPersisting() {
        persistsHistory = true
        historyDurableBatch = 0
    }

    /// A room was created: bring its ring back, from memory if it was parked, else from the
    /// store (one indexed read of at most the ring's size).
    ///
    /// A room forgotten so recently that the writer has not deleted its lines yet starts empty:
    /// reading the database then would bring the forgotten lines back.
    func historyRoomCreated(key: String) {
        guard history != nil, history?.unpark(key) == false, let historyLoader else { return }
        if let batch = forgottenRoomBatches[key] {
            if batch > historyDurableBatch { return }
            forgottenRoomBatches[key] = nil
        }
        history?.load(historyLoader(key), key: key, durableBatch: historyDurableBatch)
    }

    /// The writer has finished every hand-over batch up to `batch`: parked rings up to it may
    /// leave memory, and rooms forgotten up to it are gone from the database too.
    public func historyDurable(through batch: UInt64) {
        guard batch > historyDurableBatch else { return }
        historyDurableBatch = batch
        history?.evictParked(durableBatch: batch)
        if !forgottenRoomBatches.isEmpty { forgottenRoomBatches = forgottenRoomBatches.filter { $0.value > batch } }
    }

    /// A room emptied and is gone: park its ring, or forget it if the room was protected.
    func historyRoomDeleted(_ room: Room) {
        guard history != nil else { return }
        if room.isProtected {
            history?.forget(room.key)
            if persistsHistory {
                pendingRoomChanges.append(.forget(room.key))
                forgottenRoomBatches[room.key] = historyBatch
            }
        } else {
            history?.park(room.key, batch: historyBatch, durableBatch: historyDurableBatch)
        }
    }

    /// A room gained a key or a ban: from now on its history must not outlive it, even across
    /// a crash.
    func historyRoomProtected(_ slot: Int) {
        guard persistsHistory, let room = room(slot), !room.isProtected else { return }
        pendingRoomChanges.append(.protect(room.key))
    }

    /// Sends a room's latest `count` lines to `id`, each marked as history and labelled with the
    /// room's current display name. Charged against the client's output limit first: a client
    /// that cannot take the replay is cut, and nothing is rendered for it.
    ///
    /// Each line's body was rendered when it was said; a replay copies the bodies into one
    /// message, so a joiner costs one publish and one delivery however many lines it gets.
    func replay(_ room: Room, count: Int, to id: ClientID) -> Int {
        guard let history, count > 0 else { return 0 }
        let bodies = history.recentBodies(key: room.key, count: count)
        if bodies.isEmpty { return 0 }
        let cost = bodies.reduce(0) { $0 + $1.count + room.name.utf8.count + Self.renderedLineOverhead }
        guard outbox.charge(id, cost) else { return 0 }
        let style = style(of: id)
        outbox.deliver(outbox.publish { out in
            for body in bodies { style.renderHistory(room: room.name, body: body, into: &out) }
        }, to: id)
        return bodies.count
    }

    /// `/history [#room] [n]`: the room's last `n` lines (default: the replay count, at most
    /// what the ring keeps), then one `OK history` line. Only members may read a room's history.
    func showHistory(_ name: String?, count: Int?, for id: ClientID) {
        guard let history else {
            fail(id, .historyOff, "this server keeps no history")
            return
        }
        let slot: Int?
        if let name { slot = memberRoom(name, of: id) } else { slot = currentRoom(of: id) }
        guard let slot, let room = room(slot) else { return }
        let wanted = count ?? (historyReplayLines > 0 ? historyReplayLines : HistoryBook.defaultReplayLines)
        guard wanted >= 1 && wanted <= history.linesPerRoom else {
            fail(id, .usage, "/history shows 1 to \(history.linesPerRoom) lines")
            return
        }
        let shown = replay(room, count: wanted, to: id)
        reply(id, "history", "\(room.name) \(shown) line\(shown == 1 ? "" : "s")")
    }
}

/// A change to a room's stored history that the database writer applies in order with lines.
public enum RoomHistoryChange: Sendable, Equatable {
    /// The room has a key or bans: forget its history at the next start.
    case protect(String)
    /// Delete the room's history now (it was protected and emptied).
    case forget(String)
}
