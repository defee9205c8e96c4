/// The fan-out: turns one outgoing message into queued bytes for its recipients, rendering it
/// at most once per wire style present, however many recipients share that style. Every
/// recipient's queue references the same bytes in the outbox's arena.
struct Router {
    /// Bytes queued this iteration; the I/O layer flushes and resets it.
    var outbox = Outbox()
    /// Per client slot: marks recipients already notified, so someone sharing several rooms
    /// with a renamed or departing client hears about it once.
    private var visitStamps: ContiguousArray<UInt32> = []
    private var stamp: UInt32 = 0

    /// Sends `message` to one client only, rendered in its style.
    mutating func send(_ message: Outgoing, to id: ClientID, style: WireStyle) {
        outbox.deliver(outbox.publishOwn { style.render(message, into: &$0) }, to: id)
    }

    /// Queues `message` for every member but `sender`. When every member reads the native style
    /// it is rendered once and delivered without a per-member style lookup.
    mutating func broadcast(_ message: Outgoing, to members: ContiguousArray<ClientID>, otherStyleMembers: Int,
                            styles: ContiguousArray<WireStyle>, except sender: ClientID?) {
        if members.count == 1 && members[0] == sender { return }
        if otherStyleMembers == 0 {
            outbox.deliver(outbox.publish { WireStyle.native.render(message, into: &$0) }, toAll: members, except: sender)
            return
        }
        var rendered = RenderOnce(message)
        for member in members where member != sender {
            let message = rendered.handle(styles[Int(member.index)], in: &outbox)
            outbox.deliver(message, to: member)
        }
    }

    /// Queues `message` once for each member of the rooms `forEachRoom` names (member lists)
    /// but `subject` (nil: a client of another node), however many of those rooms each is in.
    mutating func notifyOnce(_ message: Outgoing, about subject: ClientID?, styles: ContiguousArray<WireStyle>,
                             _ forEachRoom: ((ContiguousArray<ClientID>) -> Void) -> Void) {
        if visitStamps.count < styles.count { visitStamps.append(contentsOf: repeatElement(0, count: styles.count - visitStamps.count)) }
        stamp &+= 1
        if stamp == 0 {  // Wrapped: clear old marks so none looks current.
            for index in visitStamps.indices { visitStamps[index] = 0 }
            stamp = 1
        }
        if let subject { visitStamps[Int(subject.index)] = stamp }
        var rendered = RenderOnce(message)
        forEachRoom { members in
            for member in members where visitStamps[Int(member.index)] != stamp {
                visitStamps[Int(member.index)] = stamp
                let handle = rendered.handle(styles[Int(member.index)], in: &outbox)
                outbox.deliver(handle, to: member)
            }
        }
    }

    /// Queues `message` for every recipient `forEach` names; returns how many.
    mutating func announce(_ message: Outgoing, _ forEach: ((ClientID, WireStyle) -> Void) -> Void) -> Int {
        var rendered = RenderOnce(message)
        var recipients = 0
        forEach { id, style in
            let message = rendered.handle(style, in: &outbox)
            outbox.deliver(message, to: id)
            recipients += 1
        }
        return recipients
    }
}

/// One message, rendered the first time each wire style needs it and reused after: the
/// render-once rule of every fan-out, kept in one place.
///
/// One slot per wire style, inline (no allocation per message): a new style needs no change
/// here while `WireRenderers.all` stays within `Handles.count` (a unit test holds it to that).
struct RenderOnce {
    typealias Handles = InlineArray<8, Outbox.MessageHandle?>
    private let message: Outgoing
    private var handles = Handles(repeating: nil)

    init(_ message: Outgoing) { self.message = message }

    mutating func handle(_ style: WireStyle, in outbox: inout Outbox) -> Outbox.MessageHandle {
        let slot = Int(style.index)
        if let rendered = handles[slot] { return rendered }
        let rendered = outbox.publish { style.render(message, into: &$0) }
        handles[slot] = rendered
        return rendered
    }
}
