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
        for (id, session) in ircSessions {
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
