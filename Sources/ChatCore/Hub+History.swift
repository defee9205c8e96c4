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

    /// A room was created: bring its ring back, from memory if it was parked, else from the
    /// store (one indexed read of at most the ring's size).
    func historyRoomCreated(key: String) {
        guard history != nil, history?.unpark(key) == false, let historyLoader else { return }
        history?.load(historyLoader(key), key: key, durableBatch: historyDurableBatch)
    }

    /// A room emptied and is gone: park its ring, or forget it if the room was protected.
    func historyRoomDeleted(_ room: Room) {
        guard history != nil else { return }
        if room.isProtected {
            history?.forget(room.key)
            if persistsHistory { pendingRoomChanges.append(.forget(room.key)) }
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
    func replay(_ room: Room, count: Int, to id: ClientID) -> Int {
        guard let history, count > 0 else { return 0 }
        let lines = history.recent(key: room.key, count: count)
        let cost = lines.reduce(0) { $0 + $1.text.count + $1.sender.utf8.count + room.name.utf8.count + Self.renderedLineOverhead }
        guard outbox.charge(id, cost) else { return 0 }
        for var entry in lines {
            if entry.room != room.name { entry.room = room.name }
            send(.history(entry), to: id)
        }
        return lines.count
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
