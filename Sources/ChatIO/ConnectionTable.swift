import ChatCore
import EventIO

/// The connection table: the one strong owner of connections, indexed by `ClientID.index`, with
/// its free slots, the live count and the clients per IP address, kept consistent by `insert`
/// and `remove` alone.
///
/// A slot freed during an iteration is quarantined, not reused, until `releaseQuarantine()`
/// after the flush (when the outbox is reset): nothing queued for a departed client can reach a
/// newcomer given the same slot. The per-address counts are always kept (one dictionary update
/// per accept and close), so `--max-clients-per-address` can be switched on by SIGHUP with the
/// counts already right.
struct ConnectionTable {
    /// Indexed by `ClientID.index`; nil for a free slot.
    private(set) var slots: ContiguousArray<Connection?> = []
    private var freeSlots: [Int32] = []
    private var quarantinedSlots: [Int32] = []
    /// Connections open now.
    private(set) var liveCount = 0
    private var perAddress: [IPAddress: Int] = [:]

    /// The connection of `id`, if it is still open (the hot path: one bounds check, one load).
    subscript(id: ClientID) -> Connection? {
        let slot = Int(id.index)
        return slot < slots.count ? slots[slot] : nil
    }

    /// Every open connection.
    var all: [Connection] { slots.compactMap { $0 } }

    /// Connections open from `ip`.
    func count(from ip: IPAddress) -> Int { perAddress[ip] ?? 0 }

    /// The id the next connection gets: a free slot, or a new one at the end.
    mutating func reserveID() -> ClientID {
        if let free = freeSlots.popLast() { return ClientID(Int(free)) }
        slots.append(nil)
        return ClientID(slots.count - 1)
    }

    /// Stores `connection` in the slot `reserveID()` gave it, counted against its address.
    mutating func insert(_ connection: Connection) {
        slots[Int(connection.id.index)] = connection
        perAddress[connection.ip, default: 0] += 1
        liveCount += 1
    }

    /// Drops `connection` (closed); its slot is quarantined until `releaseQuarantine()`.
    mutating func remove(_ connection: Connection) {
        if let entry = perAddress.index(forKey: connection.ip) {  // one hash, not two
            if perAddress.values[entry] > 1 { perAddress.values[entry] -= 1 } else { perAddress.remove(at: entry) }
        }
        slots[Int(connection.id.index)] = nil
        quarantinedSlots.append(connection.id.index)
        liveCount -= 1
    }

    /// After the flush: slots freed this iteration may be reused.
    mutating func releaseQuarantine() {
        freeSlots.append(contentsOf: quarantinedSlots)
        quarantinedSlots.removeAll(keepingCapacity: true)
    }
}
