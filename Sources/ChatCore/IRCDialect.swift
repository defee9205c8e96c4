/// IRC, chosen by a connection whose first word is `CAP`, `PASS`, `NICK` or `USER` (what every
/// IRC client sends first). Nothing is sent until the client registers (no chatd welcome, no
/// default room: an IRC client joins the channels it wants); then every line is parsed as an
/// IRC message and mapped onto the hub by `IRCCommands`.
struct IRCDialect: Dialect {
    var style: WireStyle { .irc }

    /// The registration commands, with the space that must follow each.
    static let openings: [[UInt8]] = ["CAP ", "PASS ", "NICK ", "USER "].map { Array($0.utf8) }

    func claim(_ prefix: UnsafeRawBufferPointer) -> ProtocolClaim { .opening(prefix, oneOf: Self.openings) }

    func connected(_ id: ClientID, in hub: Hub) {
        hub.ircSessions[id] = IRCSession(registration: IRCRegistration(startedAt: hub.now), lastHeard: hub.now)
        _ = hub.refuseIfAddressBanned(id)
    }

    func receive(_ line: [UInt8], from id: ClientID, isFirstLine: Bool, admitted: Bool, in hub: Hub) {
        IRCCommands.receive(line, from: id, in: hub)
    }

    /// Tags (8191 bytes) plus IRC's 512-byte body fit; the dialect answers 417 to a body over
    /// 512 (IRCMessage.parse) and the framer drops anything longer whole.
    var framing: LineFraming? { LineFraming(maxLineBytes: IRCMessage.maxLineBytes, keepsCTCPMarker: true) }
}

extension DialectID {
    /// IRC (IRCDialect).
    public static let irc = DialectID(index: 2)
}

extension WireStyle {
    /// IRC without server-time: replayed history is a server NOTICE (IRCRenderer).
    public static let irc = WireStyle(index: 3)
    /// IRC with server-time: replayed history carries `@time=`.
    public static let ircTimed = WireStyle(index: 4)
    /// IRC with server-time and batch: replayed history is a `chathistory` batch.
    public static let ircTimedBatched = WireStyle(index: 5)

    /// The IRC style for a connection's capabilities.
    static func irc(_ capabilities: IRCCapabilities) -> WireStyle {
        switch IRCVariant(capabilities) {
        case .timedBatched: .ircTimedBatched
        case .timed: .ircTimed
        default: .irc
        }
    }
}

/// The renderer table's IRC entries: one per variant, sharing `IRCRenderer`.
struct IRCWireRenderer: WireRenderer {
    let variant: IRCVariant
    var protocolName: String { "irc" }

    func render(_ message: Outgoing, into out: inout [UInt8]) { IRCRenderer.render(message, variant: variant, into: &out) }

    func renderHistory(room: String, body: [UInt8], into out: inout [UInt8]) {
        IRCRenderer.renderHistory(room: room, body: body, variant: variant, into: &out)
    }

    func renderHistoryReplay(room: String, bodies: ArraySlice<[UInt8]>, into out: inout [UInt8]) {
        IRCRenderer.renderHistoryReplay(room: room, bodies: bodies, variant: variant, into: &out)
    }
}
