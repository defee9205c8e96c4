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
        history?.record(entry, key: key, batch: historyBatch, durableBatch: historyDurableBatch)
        if persistsHistory {
            pendingHistory.append(entry)
            pendingHistoryBytes += entry.bytesInMemory
        }
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
                queueRoomChange(.forget(room.key))
                forgottenRoomBatches[room.key] = historyBatch
            }
        } else {
            history?.park(room.key, durableBatch: historyDurableBatch)
        }
    }

    /// A room's key or bans changed: a room that gained its first one must not have history that
    /// outlives it, even across a crash; one that lost its last one keeps its history again.
    func historyAccessChanged(_ slot: Int, wasProtected: Bool) {
        guard persistsHistory, let room = room(slot), room.isProtected != wasProtected else { return }
        queueRoomChange(room.isProtected ? .protect(room.key) : .unprotect(room.key))
    }

    /// Queues a room change at its place among this iteration's lines.
    private func queueRoomChange(_ change: RoomHistoryChange) {
        pendingRoomChanges.append(PendingRoomChange(change: change, afterLines: pendingHistory.count))
    }

    /// Sends a room's latest `count` lines to `id`, each marked as history and labelled with the
    /// room's current display name. Charged against the client's output limit first: a client
    /// that cannot take the replay is cut, and nothing is rendered for it.
    ///
    /// Each line's body was rendered when it was said; a replay copies the bodies into one
    /// message, so a joiner costs one publish and one delivery however many lines it gets.
    ///
    /// The replay on join never cuts anyone: it starts with the newest lines that fit what the
    /// client may still be sent (all of them, unless the hard limit is set very low).
    func replay(_ room: Room, count: Int, to id: ClientID, fitting: Bool = false) -> Int {
        guard let history, count > 0 else { return 0 }
        var bodies = history.recentBodies(key: room.key, count: count)[...]
        let overhead = room.name.utf8.count + Self.renderedLineOverhead
        var cost = bodies.reduce(0) { $0 + $1.count + overhead }
        if fitting {
            let allowance = outbox.allowance(of: id)
            while cost > allowance, let oldest = bodies.first {
                cost -= oldest.count + overhead
                bodies = bodies.dropFirst()
            }
        }
        if bodies.isEmpty { return 0 }
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
        let cost = history.recentBodies(key: room.key, count: wanted).reduce(0) { $0 + $1.count + room.name.utf8.count + Self.renderedLineOverhead }
        if cost > Int(outbox.fullAllowance) {  // could never fit: refuse rather than cut
            fail(id, .outputLimit, "\(wanted) lines of \(room.name) would pass your output limit; ask for fewer")
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
    /// The room's last key or ban is gone: its history is kept again.
    case unprotect(String)
    /// Delete the room's history now (it was protected and emptied).
    case forget(String)
}

/// A room change and how many of the same hand-over's lines come before it, so the writer
/// applies it exactly there: a forget must not delete a line said after it.
public struct PendingRoomChange: Sendable, Equatable {
    public let change: RoomHistoryChange
    public let afterLines: Int
}
