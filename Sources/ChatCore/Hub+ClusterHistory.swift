/// Room history on a cluster node: read from the room's Redis stream without blocking the loop.
///
/// A room created here starts at once with an empty ring, and its stream is read through the
/// link's command connection (`ClusterCommand.readHistory`); lines said meanwhile (here, or on
/// other nodes and heard live) are recorded in the ring as usual. When the stream's lines
/// arrive they go in front of those, and the line or lines both have — a line another node
/// published, heard live, and appended to the stream before the read — are kept once (the
/// longest tail of the stream equal to the start of what arrived live, by kind, sender and
/// text). So the ring holds each line once, oldest first.
///
/// A client that joins while the read is under way gets its replay when the lines arrive, not
/// before (an empty replay would lose them for it): the replay then holds every line from before
/// its join, in order, and none of the lines it has already seen live since. Those live lines
/// therefore reach it before the older replayed ones; nothing is shown twice. If Redis does not
/// answer (down, or the connection lost) the room keeps the lines it has and waiting joiners
/// get those.
extension Hub {
    /// A room's history is being read from Redis: how many lines arrived live meanwhile, and
    /// the joiners whose replay waits for it.
    struct HistoryLoad {
        var arrived = 0
        var waiting: [(id: ClientID, serial: UInt64, arrivedAtJoin: Int)] = []
    }

    /// Cluster mode with history on: Redis streams own room history from now on. Lines said
    /// here are handed over as on a single node, to the history storage the I/O layer chose
    /// (`RedisHistory` appends them to the streams; lines heard from other nodes are not handed
    /// over: their node stored them), and every room's lines are read from its stream,
    /// asynchronously, as rooms are created, and now for the rooms that exist already.
    public func clusterOwnsHistory() {
        guard cluster != nil, roomHistory.book != nil else { return }
        cluster?.keepsHistory = true
        roomHistory.persistWithoutReload()
        for room in rooms.first(Int.max) { clusterStartHistoryRead(room.key) }
    }

    /// Starts reading a room's stream: its ring starts empty (a ring parked here may have
    /// missed lines said on other nodes while this node had no member).
    func clusterStartHistoryRead(_ key: String) {
        guard cluster?.keepsHistory == true else { return }
        roomHistory.book?.load([], key: key)
        cluster?.historyLoads[key] = HistoryLoad()
        cluster?.commands.append(.readHistory(room: key))
    }

    /// A line was recorded in a room's ring: counted if the room's stream is still being read.
    func clusterHistoryArrived(_ key: String) {
        if cluster?.historyLoads[key] != nil { cluster?.historyLoads[key]?.arrived += 1 }
    }

    /// The join's replay: at once, or when the room's stream has been read.
    func replayOnJoin(_ room: Room, to id: ClientID) { replayOnJoin(name: room.name, key: room.key, to: id) }

    /// The same, for the room with display name `name` and key `key` (no copy of the room).
    func replayOnJoin(name: String, key: String, to id: ClientID) {
        if cluster != nil, let load = cluster?.historyLoads[key], let serial = clients[id]?.serial {
            cluster?.historyLoads[key]?.waiting.append((id, serial, load.arrived))
            return
        }
        _ = HistoryCommands.replay(self, name: name, key: key, count: roomHistory.replayLines, to: id, fitting: true)
    }

    /// A room's stream lines, oldest first (nil: Redis did not answer): merged with what arrived
    /// live, then the waiting joiners' replays.
    public func clusterHistoryRead(room key: String, _ entries: [HistoryEntry]?) {
        guard let load = cluster?.historyLoads.removeValue(forKey: key), let book = roomHistory.book,
              let slot = rooms.slot(named: key) else { return }  // a room gone meanwhile keeps its ring parked
        if let entries, !entries.isEmpty {
            let live = book.recent(key: key, count: min(load.arrived, book.linesPerRoom))
            roomHistory.book?.load(Self.merged(stream: entries, live: live), key: key)
        }
        guard let room = rooms[slot] else { return }
        for waiter in load.waiting {
            guard clients[waiter.id]?.serial == waiter.serial, room.members.contains(waiter.id) else { continue }
            _ = HistoryCommands.replay(self, room, count: roomHistory.replayLines, to: waiter.id, fitting: true,
                                       skippingNewest: load.arrived - waiter.arrivedAtJoin)
        }
    }

    /// The stream's lines, then the live ones it does not already hold. A line can be in both
    /// only if it was appended after this node subscribed, so among the stream's last
    /// `live.count` lines; matched by kind, sender and text, each stream line at most once, in
    /// whatever order: lines of two nodes reach the stream in the order their appends reached
    /// Redis, which need not be the order their publishes arrived here.
    static func merged(stream: [HistoryEntry], live: [HistoryEntry]) -> [HistoryEntry] {
        struct Line: Hashable {
            let kind: HistoryEntry.Kind
            let sender: String
            let text: [UInt8]
        }
        var stored: [Line: Int] = [:]
        for entry in stream.suffix(live.count) { stored[Line(kind: entry.kind, sender: entry.sender, text: entry.text), default: 0] += 1 }
        let unseen = live.filter { entry in
            let line = Line(kind: entry.kind, sender: entry.sender, text: entry.text)
            guard let count = stored[line], count > 0 else { return true }
            stored[line] = count - 1
            return false
        }
        return stream + unseen
    }
}
