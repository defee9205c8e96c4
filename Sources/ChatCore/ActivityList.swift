/// Clients ordered by the time of their last activity, oldest first: the libev manual's "be
/// smart about timeouts" structure. Touching a client moves it to the back in O(1), so one
/// timer aimed at the front client's deadline serves every connection, instead of one timer
/// per connection being restarted on every read.
///
/// An intrusive doubly-linked list over client slots: two Int32 links and a time per slot.
public struct ActivityList: Sendable {
    private struct Node: Sendable {
        var previous: Int32 = -1
        var next: Int32 = -1
        var time = 0.0
        var isListed = false
    }

    private var nodes: ContiguousArray<Node> = []
    private var head: Int32 = -1
    private var tail: Int32 = -1
    public private(set) var count = 0

    public init() {}

    /// Records activity of `client` at `time` (which never goes backwards) and moves it last.
    public mutating func touch(_ client: ClientID, at time: Double) {
        let slot = Int(client.index)
        if slot >= nodes.count { nodes.append(contentsOf: repeatElement(Node(), count: slot + 1 - nodes.count)) }
        if nodes[slot].isListed {
            if tail == client.index {
                nodes[slot].time = time
                return
            }
            unlink(slot)
        }
        nodes[slot].time = time
        nodes[slot].isListed = true
        nodes[slot].previous = tail
        nodes[slot].next = -1
        if tail >= 0 { nodes[Int(tail)].next = client.index } else { head = client.index }
        tail = client.index
        count += 1
    }

    /// Takes `client` out of the list (it closed, or no longer needs watching).
    public mutating func remove(_ client: ClientID) {
        let slot = Int(client.index)
        guard slot < nodes.count, nodes[slot].isListed else { return }
        unlink(slot)
        nodes[slot].isListed = false
    }

    public func contains(_ client: ClientID) -> Bool {
        let slot = Int(client.index)
        return slot < nodes.count && nodes[slot].isListed
    }

    /// The least recently active client and when it was last active.
    public var oldest: (client: ClientID, time: Double)? {
        head >= 0 ? (ClientID(Int(head)), nodes[Int(head)].time) : nil
    }

    private mutating func unlink(_ slot: Int) {
        let node = nodes[slot]
        if node.previous >= 0 { nodes[Int(node.previous)].next = node.next } else { head = node.next }
        if node.next >= 0 { nodes[Int(node.next)].previous = node.previous } else { tail = node.previous }
        count -= 1
    }
}
