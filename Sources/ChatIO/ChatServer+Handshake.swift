import ChatCore
import EventIO

/// Connections whose transport has an opening exchange (a TLS handshake) before any chat:
/// the hub learns of a client only once it is established. Until then the client is on
/// `timeouts.handshaking`, an activity-ordered list checked once a second by housekeeping, so a
/// handshake that never finishes (slow-loris on TLS) is closed after the handshake timeout
/// without a timer per connection.
extension ChatServer {
    /// The transport is ready for application bytes: the hub takes the client from here on.
    func establish(_ connection: Connection) {
        let id = connection.id
        if !connection.isEstablished && timeouts.handshaking.contains(id) { handshakeEnded(connection) }
        connection.isEstablished = true
        if config.idleTimeout > 0 { timeouts.idle.touch(id, at: reactor.now) }
        hub.connect(id, address: connection.address, at: reactor.now)
        logger.info("client \(connection.address) connected\(connection.transport.summary); \(liveConnections) connected",
                    metadata: ["client": "\(connection.address)", "clients": .stringConvertible(liveConnections)])
    }

    /// A freshly accepted client whose transport must finish a handshake first.
    func handshakeStarted(_ connection: Connection) {
        timeouts.handshaking.touch(connection.id, at: reactor.now)
        acceptLoop.pauseTLSAtBound(for: self)
    }

    /// The handshake finished, failed or timed out: the client no longer counts against the
    /// bound on handshakes in flight.
    func handshakeEnded(_ connection: Connection) {
        timeouts.handshaking.remove(connection.id)
        acceptLoop.resumeTLSBelowBound(for: self)
    }

    /// Closes a client whose handshake failed, counting it; logged at `info` (a port scanner
    /// or a client with the wrong port is routine, not news).
    func handshakeFailed(_ connection: Connection, _ detail: String) {
        let failures = countHandshakeFailure()
        close(connection, reason: "connection lost", log: "\(detail) (\(failures) failed handshakes since start)")
    }

    /// Once a second: clients whose handshake has taken longer than the timeout are closed.
    func expireHandshakes() {
        let limit = config.tls.handshakeTimeout
        for id in ClientTimeouts.expired(&timeouts.handshaking, after: limit, now: reactor.now) {
            guard let connection = connection(id), !connection.isClosed else { continue }
            handshakeFailed(connection, "TLS handshake not finished within \(Bounded.decimal(limit))s")
        }
    }
}
