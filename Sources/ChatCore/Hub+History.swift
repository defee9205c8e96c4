/// Room history: remembering lines as they are said, replaying them on join, `/history`.
extension Hub {
    /// Stores a line in its room's ring and, when history is persisted, queues it for the
    /// database writer (the I/O layer hands `pendingHistory` over once per loop iteration).
    func remember(_ kind: HistoryEntry.Kind, room: String, key: String, sender: String, text: ArraySlice<UInt8>) {
        guard history != nil else { return }
        let entry = HistoryEntry(room: room, at: now, kind: kind, sender: sender, text: Array(text))
        history?.record(entry, key: key)
        if persistsHistory { pendingHistory.append(entry) }
    }

    /// Sends a room's latest `count` lines to `id`, each marked as history.
    func replay(_ room: String, count: Int, to id: ClientID) -> Int {
        guard let history, count > 0 else { return 0 }
        let lines = history.recent(room, count: count)
        for entry in lines { send(.history(entry), to: id) }
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
        let shown = replay(room.name, count: wanted, to: id)
        reply(id, "history", "\(room.name) \(shown) line\(shown == 1 ? "" : "s")")
    }
}
