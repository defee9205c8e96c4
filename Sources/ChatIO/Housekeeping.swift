import ChatCore
import EventIO

/// The server's once-a-second work, on one timer (libev manual, "Be smart about timeouts":
/// one timer and activity-ordered lists, not a timer per connection): input, handshake and
/// linger timeouts, ending read pauses, slow consumers that stopped receiving new output (so
/// the flush never re-checks them) but still sit over the soft limit, the `/stats` figures,
/// and giving free heap pages back. What each check does when it fires belongs to its owner
/// (`ClientInput`, `ClientOutput`, `ReadPauses`, `AcceptLoop`); this only calls them.
final class Housekeeping {
    /// Fires every second while the server runs (made by `attach`).
    private var timer: TimerWatcher!
    /// When free heap pages were last given back (`MemoryReturn.trim`).
    private var lastMemoryTrim = 0.0
    /// When the server started, for the uptime `/stats` shows.
    private let startTime: Double
    /// `hub.messagesRelayed` at the last refresh, for the messages per second `/stats` shows.
    private var lastRelayed: UInt64 = 0

    init(startTime: Double) { self.startTime = startTime }

    /// Makes the timer, which calls back into `server` (unowned: it owns this).
    func attach(to server: ChatServer) {
        timer = TimerWatcher(reactor: server.reactor, after: 1, repeat: 1) { [unowned server] in server.housekeeping.run(for: server) }
    }

    func start() { timer.start() }
    func stop() { timer.stop() }

    /// Every check, once; the prepare watcher closes whoever they cut.
    func run(for server: ChatServer) {
        let now = server.reactor.now
        if now - lastMemoryTrim >= MemoryReturn.trimIntervalSeconds {
            lastMemoryTrim = now
            MemoryReturn.trim()
        }
        server.input.enforceTimeouts(for: server)
        server.acceptLoop.expireHandshakes(for: server)
        server.output.closeLingeringClients(for: server)
        server.readPauses.endPenalties(for: server)
        server.hub.ircHousekeeping(now: now)
        refreshStats(for: server)
        for connection in server.connections where connection?.overSoftLimitSince != nil {
            if let connection { server.output.checkOutputLimits(connection, for: server) }
        }
    }

    /// Refreshes the figures `/stats` shows.
    private func refreshStats(for server: ChatServer) {
        let hub = server.hub
        var queued = 0
        for connection in server.connections { queued += connection?.pendingOutput ?? 0 }
        hub.stats.bytesQueued = queued
        hub.stats.uptimeSeconds = server.reactor.now - startTime
        hub.stats.messagesPerSecond = Double(hub.messagesRelayed &- lastRelayed)
        lastRelayed = hub.messagesRelayed
    }
}
