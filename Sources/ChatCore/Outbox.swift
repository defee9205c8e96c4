/// The fan-out buffer: everything rendered during one reactor iteration, and for each client the
/// ranges of it that client must receive.
///
/// A message is rendered once into `arena`; delivering it to a recipient appends an (offset,
/// length) entry to that recipient's list, or extends the recipient's last entry when the new
/// message directly follows it, so a recipient that gets every message of a burst owns one range
/// however many messages the burst held. No bytes are copied and nothing is allocated per
/// recipient. At the end of the iteration the I/O layer writes each dirty client's ranges with
/// one `sendmsg`, copies any unwritten rest into that client's private backlog, and calls
/// `reset()`: after that no range points into either arena, so both are reused from offset zero.
///
/// Messages for one recipient (replies, the welcome, a join's replay) are rendered into a second
/// arena, `ownArena`, so they do not sit between the messages many clients share: a room's
/// listener then gets one range however many joins, lines and quits a pass holds (one `iovec`,
/// one merge per delivery instead of a new chained range), as long as everything shared in the
/// pass reached it (a second room's lines, or another style's rendering, start a new range). A handle's top offset bit says which
/// arena it points into; a client's ranges keep its delivery order whatever the arena.
///
/// Bounds: offsets are 32-bit, 31 bits within an arena (checked on every publish), and neither
/// arena comes near 2 GiB because the I/O layer
/// stops handing input to the hub, and stops accepting, once `renderedBytes` passes its
/// per-pass budget (32 MiB), and any single command or admission renders at most 200 history
/// lines of `--max-line-bytes` each (800 KiB at the defaults, 200 MiB at the largest settings),
/// lists being capped at `maxListedNames` lines. Each client also has an *allowance*: its hard output limit less what it
/// already has pending. A delivery that would overdraw it is not queued; the client is listed in
/// `overLimit` for the I/O layer to cut, during the pass, before its output can pile up.
public struct Outbox: Sendable {
    /// Where one published message lives: in `arena`, or in `ownArena` if its offset has `ownArenaBit`.
    public struct MessageHandle: Sendable, Equatable {
        public let offset: UInt32
        public let length: UInt32
    }

    /// One contiguous range of an arena (as in `MessageHandle`) queued for a client, chained per client by `next`.
    public struct QueuedRange: Sendable {
        public var offset: UInt32
        public var length: UInt32
        fileprivate var next: Int32
    }

    /// A client's queue: closed ranges chained from `head` to `tail`, plus the open (last)
    /// range kept inline, so the common case, a message that directly follows the previous one
    /// this client got, is a single read-modify-write of this record.
    private struct Link: Sendable {
        var head: Int32 = -1
        var tail: Int32 = -1
        var openOffset: UInt32 = 0
        /// Zero when nothing is queued for the client this iteration.
        var openLength: UInt32 = 0
        /// Bytes that may still be queued before the client passes its hard output limit.
        var allowance: UInt32
        /// Listed in `overLimit`: nothing more is queued for it.
        var isOverLimit = false

        init(allowance: UInt32) { self.allowance = allowance }
    }

    /// Bytes rendered this iteration for many recipients. Offsets into it stay valid until `reset()`.
    public private(set) var arena: [UInt8] = []
    /// Bytes rendered this iteration for one recipient each (`publishOwn`); their handles'
    /// offsets carry `ownArenaBit`.
    public private(set) var ownArena: [UInt8] = []
    /// Set in the offset of a handle (and of a queued range) that points into `ownArena`.
    public static let ownArenaBit: UInt32 = 1 << 31

    /// Which arena a handle's or range's `offset` points into, and where in it: the one place the
    /// bit is read (the flush maps the same answer to addresses).
    @inline(__always)
    public static func place(of offset: Int) -> (inOwnArena: Bool, at: Int) {
        let bit = Int(ownArenaBit)
        return (offset & bit != 0, offset & ~bit)
    }
    private var ranges: ContiguousArray<QueuedRange> = []
    private var links: ContiguousArray<Link> = []
    /// Clients with ranges queued this iteration, each listed once, in first-delivery order.
    public private(set) var dirty: [ClientID] = []
    /// Clients to close once their output is flushed (`/quit`), in request order.
    public private(set) var closeRequests: [ClientID] = []
    /// Clients a delivery would have taken past their hard output limit this iteration.
    public private(set) var overLimit: [ClientID] = []
    /// Every client's allowance when it has nothing pending: the hard output limit.
    public private(set) var fullAllowance: UInt32 = UInt32.max
    /// Messages queued for one recipient, ever (a room line to 99 members is 99): the metrics'
    /// `chatd_deliveries_total`. The fan-out loop counts into a local and adds once per
    /// message; refused deliveries (over the hard limit) are subtracted on their rare path.
    public private(set) var deliveries: UInt64 = 0

    /// Bytes rendered so far this iteration.
    public var renderedBytes: Int { arena.count + ownArena.count }

    /// Arena capacity kept across iterations; a burst that grew it further is given back.
    public static let retainedArenaBytes = 1 << 20

    public init() {}

    /// Renders one message straight into the arena and returns where it landed.
    public mutating func publish(_ render: (inout [UInt8]) -> Void) -> MessageHandle {
        let start = arena.count
        render(&arena)
        // A bug of ours if reached (the pass budget keeps the arena under 33 MiB plus one command's
        // output): past 2 GiB an offset would carry `ownArenaBit`.
        precondition(arena.count < Int(Self.ownArenaBit), "the shared arena passed 2 GiB")
        return MessageHandle(offset: UInt32(start), length: UInt32(arena.count - start))
    }

    /// The same, for a message only one client will get (a reply, a welcome, a replay).
    public mutating func publishOwn(_ render: (inout [UInt8]) -> Void) -> MessageHandle {
        let start = ownArena.count
        render(&ownArena)
        precondition(ownArena.count < Int(Self.ownArenaBit), "the own arena passed 2 GiB")
        return MessageHandle(offset: UInt32(start) | Self.ownArenaBit, length: UInt32(ownArena.count - start))
    }

    /// Makes room for `client` before anything is delivered to it.
    public mutating func register(_ client: ClientID) {
        let slot = Int(client.index)
        if slot >= links.count { links.append(contentsOf: repeatElement(Link(allowance: fullAllowance), count: slot + 1 - links.count)) }
        links[slot] = Link(allowance: fullAllowance)
    }

    /// A new hard limit (start, SIGHUP): every client's allowance moves by the difference, so
    /// what it already has pending still counts against the new limit.
    public mutating func setFullAllowance(_ limit: UInt32) {
        let change = Int(limit) - Int(fullAllowance)
        fullAllowance = limit
        if change == 0 { return }
        for slot in links.indices where !links[slot].isOverLimit {
            links[slot].allowance = UInt32(clamping: min(Int(limit), max(0, Int(links[slot].allowance) + change)))
        }
    }

    /// What `client` may still be sent before it passes its hard limit (0 once it has).
    public func allowance(of client: ClientID) -> Int {
        let slot = Int(client.index)
        guard slot < links.count, !links[slot].isOverLimit else { return 0 }
        return Int(links[slot].allowance)
    }

    /// The I/O layer wrote `bytes` of this client's pending output: it may be sent that much more.
    public mutating func credit(_ client: ClientID, _ bytes: Int) {
        let slot = Int(client.index)
        guard slot < links.count, bytes > 0 else { return }
        let raised = Int(links[slot].allowance) + bytes
        links[slot].allowance = UInt32(min(raised, Int(fullAllowance)))
    }

    /// Charges a reply of about `bytes` before it is rendered: false (and the client listed in
    /// `overLimit`) when it would pass the client's hard limit, so a big reply to a client that
    /// cannot take it is never rendered at all.
    public mutating func charge(_ client: ClientID, _ bytes: Int) -> Bool {
        let slot = Int(client.index)
        guard slot < links.count else { return false }
        if links[slot].isOverLimit { return false }
        if bytes <= Int(links[slot].allowance) { return true }
        links[slot].isOverLimit = true
        links[slot].allowance = 0
        overLimit.append(client)
        return false
    }

    /// Queues `message` for `client`, merging with the client's previous range when contiguous.
    public mutating func deliver(_ message: MessageHandle, to client: ClientID) {
        var links = takeLinks()
        var span = links.mutableSpan
        deliver(message, to: client, links: &span)
        self.links = links
        deliveries &+= 1
    }

    /// Queues `message` for every member but `sender`: the fan-out inner loop. The link table
    /// is moved into a local for the loop and written through a `MutableSpan` of it, so no
    /// write pays a copy-on-write (uniqueness) check: one per message, not one per recipient.
    public mutating func deliver(_ message: MessageHandle, toAll members: ContiguousArray<ClientID>, except sender: ClientID?) {
        var links = takeLinks()
        var span = links.mutableSpan
        var count: UInt64 = 0
        for member in members where member != sender {
            deliver(message, to: member, links: &span)
            count &+= 1
        }
        self.links = links
        deliveries &+= count
    }

    private mutating func takeLinks() -> ContiguousArray<Link> {
        var taken: ContiguousArray<Link> = []
        swap(&taken, &links)
        return taken
    }

    @inline(__always)
    private mutating func deliver(_ message: MessageHandle, to client: ClientID, links: inout MutableSpan<Link>) {
        if message.length == 0 {
            deliveries &-= 1  // not queued: the callers counted it
            return
        }
        let slot = Int(client.index)
        precondition(slot < links.count, "deliver to an unregistered client")
        // One read and one write of the record: each element write is a uniqueness check.
        var link = links[slot]
        if message.length > link.allowance {
            deliveries &-= 1
            if !link.isOverLimit { markOverLimit(client, slot: slot, links: &links) }
            return
        }
        link.allowance &-= message.length
        if link.openLength != 0 {
            if link.openOffset &+ link.openLength == message.offset {
                link.openLength &+= message.length
                links[slot] = link
                return
            }
            closeOpenRange(&link)
        } else if link.head < 0 {
            dirty.append(client)
        }
        link.openOffset = message.offset
        link.openLength = message.length
        links[slot] = link
    }

    private mutating func markOverLimit(_ client: ClientID, slot: Int, links: inout MutableSpan<Link>) {
        links[slot].isOverLimit = true
        links[slot].allowance = 0
        overLimit.append(client)
    }

    /// Moves a client's open range into the chained list to make way for a non-contiguous one.
    private mutating func closeOpenRange(_ link: inout Link) {
        let index = Int32(ranges.count)
        ranges.append(QueuedRange(offset: link.openOffset, length: link.openLength, next: -1))
        if link.tail >= 0 {
            ranges[Int(link.tail)].next = index
        } else {
            link.head = index
        }
        link.tail = index
    }

    /// Calls `body` with each range queued for `client`, in delivery order.
    public func forEachRange(of client: ClientID, _ body: (_ offset: Int, _ length: Int) -> Void) {
        var position = Self.firstRange
        while let range = range(of: client, at: position) {
            body(range.offset, range.length)
            position = range.next
        }
    }

    /// Where a walk over a client's ranges with `range(of:at:)` starts.
    public static let firstRange: Int32 = -3

    /// The range of `client`'s queue at `position` (`firstRange`, then each answer's `next`),
    /// or nil past the last: the same ranges, in the same order, as `forEachRange`. A walk with
    /// no closure, for the flush: calling a closure-taking method through `Hub.outbox` from
    /// the I/O layer made it copy the whole outbox (and retain its arrays) once per client.
    /// Positions: >= 0 a chained range, -2 the open range, -1 the end.
    public func range(of client: ClientID, at position: Int32) -> (offset: Int, length: Int, next: Int32)? {
        let slot = Int(client.index)
        guard slot < links.count, position != -1 else { return nil }
        let link = links[slot]
        let index = position == Self.firstRange ? (link.head >= 0 ? link.head : -2) : position
        if index >= 0 {
            let range = ranges[Int(index)]
            return (Int(range.offset), Int(range.length), range.next >= 0 ? range.next : -2)
        }
        guard link.openLength != 0 else { return nil }
        return (Int(link.openOffset), Int(link.openLength), -1)
    }

    /// Asks the I/O layer to close `client` once everything queued for it has been written.
    public mutating func requestClose(_ client: ClientID) {
        closeRequests.append(client)
    }

    /// Forgets what was queued for a client that is going away mid-iteration.
    public mutating func discard(_ client: ClientID) {
        let slot = Int(client.index)
        guard slot < links.count else { return }
        links[slot] = Link(allowance: 0)
    }

    /// Empties the outbox after the I/O layer has written or copied every queued range.
    /// Allowances carry over: they fall as output is queued and rise as the I/O layer `credit`s
    /// what it wrote, so a client with a backlog starts the next iteration with less.
    public mutating func reset() {
        for client in dirty {
            let slot = Int(client.index)
            links[slot].head = -1
            links[slot].tail = -1
            links[slot].openLength = 0
        }
        dirty.removeAll(keepingCapacity: true)
        closeRequests.removeAll(keepingCapacity: true)
        overLimit.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: ranges.capacity <= 1 << 16)
        arena.removeAll(keepingCapacity: arena.capacity <= Self.retainedArenaBytes)
        ownArena.removeAll(keepingCapacity: ownArena.capacity <= Self.retainedArenaBytes)
    }

    /// Everything queued for `client`, concatenated (for tests: the flush reads the ranges).
    public func bytes(for client: ClientID) -> [UInt8] {
        var out: [UInt8] = []
        forEachRange(of: client) { offset, length in
            let (inOwnArena, at) = Self.place(of: offset)
            out.append(contentsOf: (inOwnArena ? ownArena : arena)[at..<(at + length)])
        }
        return out
    }
}
