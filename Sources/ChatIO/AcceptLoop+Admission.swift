import CLibEv
import ChatCore
import EventIO
import Glibc

/// Admitting an accepted socket (redis's `acceptCommonHandler`): refused with one line when the
/// server is full, shutting down or the address has its most connections; otherwise a connection
/// in the server's table, established at once or after its transport's handshake.
///
/// A transport with an opening exchange (a TLS handshake) comes before any chat: the hub learns
/// of a client only once it is established. Until then the client is on
/// `timeouts.handshaking`, an activity-ordered list checked once a second by housekeeping, so a
/// handshake that never finishes (slow-loris on TLS) is closed after the handshake timeout
/// without a timer per connection; that list's length is also the TLS port's bound.
extension AcceptLoop {
    func admit(fd: Int32, address: SocketAddress, refusalsInPlaintext: Bool, for server: ChatServer, _ makeTransport: (Int32) throws -> Transport) {
        let now = server.reactor.now
        if server.liveConnections >= server.maxClients || server.isShuttingDown {
            let shuttingDown = server.isShuttingDown
            if shuttingDown { server.counters.refusedShuttingDown &+= 1 } else { server.counters.refusedServerFull &+= 1 }
            Self.refuse(fd, shuttingDown ? "the server is shutting down" : "the server is full (\(server.maxClients) clients); try again later",
                        inPlaintext: refusalsInPlaintext)
            if mayLog(now: now) {
                server.logger.warning("refused \(address): \(server.liveConnections) of \(server.maxClients) clients connected",
                                      metadata: ["client": "\(address)", "reason": shuttingDown ? "shutting_down" : "server_full", "clients": .stringConvertible(server.liveConnections)])
            }
            return
        }
        // The text and its parsed form, made once here: nobody parses the text back.
        let text = address.description
        let host = ClientAddress.host(of: text)
        let bits = address.addressBits
        let ip = IPAddress(high: bits.high, low: bits.low)
        let fromHost = server.table.count(from: ip)
        if server.config.maxClientsPerAddress > 0 && fromHost >= server.config.maxClientsPerAddress {
            server.counters.refusedPerAddress &+= 1
            Self.refuse(fd, "\(host) already has \(fromHost) connections, the most allowed", code: .tooManyFromAddress, inPlaintext: refusalsInPlaintext)
            return
        }
        let transport: Transport
        do {
            transport = try makeTransport(fd)
        } catch {
            server.logger.warning("refused \(text): \(error)")
            Socket.close(fd)
            return
        }
        let connection = Connection(id: server.table.reserveID(), fd: fd, address: text, host: host, ip: ip, transport: transport,
                                    maxLineBytes: server.config.chat.maxLineBytes, bucket: server.config.makeBucket(now: now), server: server)
        server.table.insert(connection)
        server.counters.accepted &+= 1
        connection.startReading(server.reactor.loop)
        if transport.isEstablished {
            establish(connection, for: server)
        } else {
            server.timeouts.handshaking.touch(connection.id, at: now)
            pauseTLSAtBound(for: server)
        }
    }

    /// The transport is ready for application bytes: its first bytes choose its protocol, and
    /// the hub takes the client from there (ProtocolDetection).
    func establish(_ connection: Connection, for server: ChatServer) {
        let id = connection.id
        let now = server.reactor.now
        if !connection.isEstablished && server.timeouts.handshaking.contains(id) { handshakeEnded(connection, for: server) }
        connection.isEstablished = true
        if server.config.idleTimeout > 0 { server.timeouts.idle.touch(id, at: now) }
        server.detection.begin(connection, for: server)
        let clients = server.liveConnections
        server.logger.info("client \(connection.address) connected\(connection.transport.summary); \(clients) connected",
                           metadata: ["client": "\(connection.address)", "clients": .stringConvertible(clients)])
    }

    /// The handshake finished, failed or timed out: the client no longer counts against the
    /// bound on handshakes in flight.
    func handshakeEnded(_ connection: Connection, for server: ChatServer) {
        server.timeouts.handshaking.remove(connection.id)
        resumeTLSBelowBound(for: server)
    }

    /// Closes a client whose handshake failed, counting it; logged at `info` (a port scanner
    /// or a client with the wrong port is routine, not news).
    func handshakeFailed(_ connection: Connection, _ detail: String, for server: ChatServer) {
        var failures = 0
        if let endpoint = tls?.endpoint {
            endpoint.handshakeFailures += 1
            failures = endpoint.handshakeFailures
        }
        server.close(connection, reason: "connection lost", log: "\(detail) (\(failures) failed handshakes since start)")
    }

    /// Once a second: clients whose handshake has taken longer than the timeout are closed.
    func expireHandshakes(for server: ChatServer) {
        let limit = server.config.tls.handshakeTimeout
        for id in ClientTimeouts.expired(&server.timeouts.handshaking, after: limit, now: server.reactor.now) {
            guard let connection = server.connection(id), !connection.isClosed else { continue }
            handshakeFailed(connection, "TLS handshake not finished within \(Bounded.decimal(limit))s", for: server)
        }
    }
}
