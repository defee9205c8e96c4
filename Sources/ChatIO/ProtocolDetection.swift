import ChatCore
import EventIO

/// Choosing each connection's protocol from its first bytes, as protocol multiplexers such as
/// sslh do. chatd's own protocol greets first (the welcome line), but an IRC client or a browser
/// must see nothing of it: so an established connection is *undecided* — nothing is sent, its
/// first bytes are kept — until they choose a dialect (`Dialects.detect`: an HTTP method, an IRC
/// command), or until `--protocol-wait` passes in silence, when it is taken to speak chatd's
/// protocol and welcomed. Clients that talk first (IRC clients, browsers, scripts piping into
/// nc) are decided on their first read; an nc or telnet user waits the protocol wait for the
/// welcome. The hub learns of a client only once it is decided.
///
/// The undecided are on `timeouts.detecting` in the order they arrived, and one timer fires at
/// the oldest one's deadline, so the wait costs no timer per connection.
final class ProtocolDetection {
    private var timer: TimerWatcher!

    /// Makes the timer, which calls back into `server` (unowned: it owns this).
    func attach(to server: ChatServer) {
        timer = TimerWatcher(reactor: server.reactor, after: 1, repeat: 0) { [unowned server] in
            server.detection.waitEnded(for: server)
        }
    }

    func stop() { timer?.stop() }

    /// `--protocol-wait` changed (SIGHUP): the timer is set again from the oldest undecided
    /// connection, so a shorter wait takes effect now rather than at the old deadline.
    func waitChanged(for server: ChatServer) {
        guard let (_, since) = server.timeouts.detecting.oldest else { return }
        timer.schedule(after: max(0.001, since + server.config.protocolWait - server.reactor.now))
    }

    /// Shutdown: undecided connections are closed as they are (the hub never knew them, so
    /// there is nobody to say goodbye to), and no connection is decided from now on.
    func closeUndecided(for server: ChatServer) {
        timer.stop()
        for connection in server.connections.compactMap({ $0 }) where connection.awaitsFirstBytes && !connection.isClosed {
            server.close(connection, reason: "server shutting down", log: "shutting down before its protocol was known")
        }
    }

    /// The connection's transport is established: it waits for its first bytes, or (no wait
    /// configured) speaks chatd's protocol at once.
    func begin(_ connection: Connection, for server: ChatServer) {
        if server.isShuttingDown {  // a TLS handshake that finished during shutdown
            return server.close(connection, reason: "server shutting down", log: "established during shutdown")
        }
        let wait = server.config.protocolWait
        guard wait > 0 else { return decide(connection, .native, for: server) }
        connection.awaitsFirstBytes = true
        server.timeouts.detecting.touch(connection.id, at: server.reactor.now)
        if !timer.isActive { timer.schedule(after: wait) }
    }

    /// Bytes from an undecided connection. Once they decide its protocol, returns everything it
    /// has sent so far, for framing; nil while it still waits (the bytes are kept, fewer than
    /// `Dialects.longestOpening` of them).
    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection, for server: ChatServer) -> [UInt8]? {
        connection.firstBytes.append(contentsOf: bytes)
        guard let dialect = connection.firstBytes.withUnsafeBytes({ Dialects.detect($0) }) else { return nil }
        decide(connection, dialect, for: server)
        return takeFirstBytes(connection)
    }

    /// The peer ended its input, or its wait is over, before its bytes decided: it speaks
    /// chatd's protocol; returns what it sent, for framing.
    func decideNative(_ connection: Connection, for server: ChatServer) -> [UInt8] {
        decide(connection, .native, for: server)
        return takeFirstBytes(connection)
    }

    private func decide(_ connection: Connection, _ dialect: DialectID, for server: ChatServer) {
        connection.awaitsFirstBytes = false
        server.timeouts.detecting.remove(connection.id)
        // Nothing has been framed yet (detection keeps raw bytes), so the framer can be replaced.
        if let framing = dialect.framing {
            connection.framer = LineFramer(maxLineBytes: framing.maxLineBytes, keepsCTCPMarker: framing.keepsCTCPMarker)
        }
        if dialect == .http && server.config.web { connection.web = WebDoor(maxMessageBytes: server.config.chat.maxLineBytes) }
        server.hub.connect(connection.id, address: connection.address, ip: connection.ip, at: server.reactor.now, dialect: dialect)
    }

    private func takeFirstBytes(_ connection: Connection) -> [UInt8] {
        defer { connection.firstBytes = [] }
        return connection.firstBytes
    }

    /// The timer: connections silent for the protocol wait speak chatd's protocol (what little
    /// they sent is framed); then the timer is set for the next oldest.
    private func waitEnded(for server: ChatServer) {
        let now = server.reactor.now, wait = server.config.protocolWait
        for id in ClientTimeouts.expired(&server.timeouts.detecting, after: wait, now: now) {
            guard let connection = server.connection(id), !connection.isClosed, connection.awaitsFirstBytes else { continue }
            let sent = decideNative(connection, for: server)
            if !sent.isEmpty { server.input.frameFirstBytes(sent, from: connection, for: server) }
        }
        if let (_, since) = server.timeouts.detecting.oldest { timer.schedule(after: max(0.001, since + wait - now)) }
    }
}
