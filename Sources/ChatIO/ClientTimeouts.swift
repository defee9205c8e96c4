import ChatCore

/// The activity-ordered lists behind every per-client timeout: one housekeeping timer looks at
/// the oldest entries of each once a second, so a timeout costs O(1) per event instead of a
/// timer restart per connection (libev manual, "Be smart about timeouts").
///
/// This type only keeps the order and says who ran out; what happens then (an expulsion
/// notice, a close) is the server's.
struct ClientTimeouts {
    /// Established clients by their last input (`--idle-timeout`).
    var idle = ActivityList()
    /// Clients holding an unfinished line, since it began (`--partial-line-timeout`).
    var partialLine = ActivityList()
    /// Clients that quit or half-closed with output still unsent, since then: closed anyway
    /// after `IOLimits.closeLingerSeconds`, whatever their backlog.
    var lingering = ActivityList()
    /// Clients whose transport handshake has not finished, since they connected
    /// (`--tls-handshake-timeout`); their count is also the TLS port's bound on handshakes.
    var handshaking = ActivityList()
    /// Established clients whose protocol their first bytes have not decided yet, since they
    /// were established (`--protocol-wait`; ProtocolDetection).
    var detecting = ActivityList()
    /// HTTP clients of the web door whose request head is unfinished, since it began
    /// (`WebDoor.requestSeconds`: the slow-loris bound).
    var webRequest = ActivityList()

    /// A closed client leaves every list but `handshaking` (which `handshakeEnded` keeps, as it
    /// also re-arms the TLS listener).
    mutating func forget(_ id: ClientID) {
        idle.remove(id)
        partialLine.remove(id)
        lingering.remove(id)
        detecting.remove(id)
        webRequest.remove(id)
    }

    /// Takes from `list` every client that has been on it for `limit` seconds or more at
    /// `now`, oldest first.
    static func expired(_ list: inout ActivityList, after limit: Double, now: Double) -> [ClientID] {
        var expired: [ClientID] = []
        while let (id, since) = list.oldest, now - since >= limit {
            list.remove(id)
            expired.append(id)
        }
        return expired
    }
}
