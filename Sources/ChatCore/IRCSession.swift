/// What the hub keeps for one IRC connection beside its `ClientState`: registration (and the
/// capabilities it negotiated), and when the client was last heard from and pinged, for the
/// server's PINGs to silent clients.
struct IRCSession: Sendable {
    var registration: IRCRegistration
    /// The loop's clock at the client's last line.
    var lastHeard: Double
    /// When the server sent a PING that has not been answered yet.
    var pingSentAt: Double?

    var capabilities: IRCCapabilities { registration.capabilities }
    var isRegistered: Bool { registration.isRegistered }
}

/// Every IRC connection's session by client slot: a line's lookup is an index, and updating
/// `lastHeard` edits the session in place (a dictionary would hash, and copy the session out
/// and back, on every line).
struct IRCSessionTable {
    private var sessions: ContiguousArray<IRCSession?> = []
    /// Sessions held.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    subscript(id: ClientID) -> IRCSession? {
        get {
            let slot = Int(id.index)
            return slot < sessions.count ? sessions[slot] : nil
        }
        _modify {
            let slot = Int(id.index)
            if slot >= sessions.count { sessions.append(contentsOf: repeatElement(nil, count: slot + 1 - sessions.count)) }
            let had = sessions[slot] != nil
            yield &sessions[slot]
            count += (sessions[slot] != nil ? 1 : 0) - (had ? 1 : 0)
        }
    }

    /// A line arrived from `id` at `time`: notes it in place and says whether the client is
    /// registered and wants its messages echoed; nil for a client without a session.
    mutating func heard(_ id: ClientID, at time: Double) -> (registered: Bool, echo: Bool)? {
        let slot = Int(id.index)
        guard slot < sessions.count, sessions[slot] != nil else { return nil }
        sessions[slot]?.lastHeard = time
        guard let registered = sessions[slot]?.registration.isRegistered, let capabilities = sessions[slot]?.registration.capabilities else { return nil }
        return (registered, capabilities.contains(.echoMessage))
    }

    /// Each session's client, for housekeeping.
    var ids: [ClientID] { sessions.indices.filter { sessions[$0] != nil }.map { ClientID($0) } }
}

/// How long IRC clients may take, set by the I/O layer from its settings.
public struct IRCTimeouts: Sendable, Equatable {
    /// Seconds a connection may take to register (CAP negotiation included).
    public var registration: Double = IRCRegistration.defaultTimeout
    /// Seconds of silence after which the server sends a PING; a PING unanswered for as long
    /// again closes the client with `ERROR :Ping timeout`.
    public var pingInterval: Double = 120

    public init() {}
}

extension Hub {
    /// The once-a-second IRC check: closes connections that did not register in time, pings
    /// registered clients that have been silent for `pingInterval`, and closes those that left
    /// a PING unanswered for `pongWait`. Costs O(IRC connections).
    public func ircHousekeeping(now time: Double) {
        guard !ircSessions.isEmpty else { return }
        now = time
        for id in ircSessions.ids {
            guard let session = ircSessions[id] else { continue }
            if !session.isRegistered {
                if session.registration.isOverdue(now: time, timeout: ircTimeouts.registration) {
                    IRCCommands.close(self, id, "Registration timeout", cause: .timeout)
                }
            } else if let sent = session.pingSentAt {
                if time - sent > ircTimeouts.pingInterval { IRCCommands.close(self, id, "Ping timeout", cause: .timeout) }
            } else if time - session.lastHeard > ircTimeouts.pingInterval {
                ircSessions[id]?.pingSentAt = time
                send(.raw(IRCMessage("PING", [IRCNames.server]).bytes), to: id)
            }
        }
    }
}
