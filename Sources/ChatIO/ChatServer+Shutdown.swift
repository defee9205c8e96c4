import ChatCore
import EventIO

/// Graceful shutdown: stop accepting, tell everyone, give their output a bounded time to drain.
extension ChatServer {
    /// Stops accepting, sends every client a goodbye notice and closes each once its output is
    /// written; after `shutdownGraceSeconds` the rest are closed anyway and the loop stops.
    public func shutdown(reason: String) {
        if isShuttingDown { return }
        isShuttingDown = true
        logger.notice("shutting down (\(reason)); \(liveConnections) clients to notify")
        acceptLoop.stop()
        detection.closeUndecided(for: self)
        input.frameAllHeldInput(for: self)
        hub.announce("server shutting down: \(reason)")
        for connection in connections.compactMap({ $0 }) where !connection.isClosed {
            hub.outbox.requestClose(connection.id)
        }
        let timer = TimerWatcher(reactor: reactor, after: config.shutdownGraceSeconds, repeat: 0) { [unowned self] in
            for connection in connections.compactMap({ $0 }) where !connection.isClosed {
                close(connection, reason: "server shutting down", log: "shutdown grace period over with \(connection.pendingOutput) bytes unsent")
            }
            reactor.stop()
        }
        timer.start()
        shutdownTimer = timer
        if liveConnections == 0 { reactor.stop() }
    }

    /// Stops every watcher the server owns so the loop can be destroyed or reused.
    public func stopWatchers() {
        acceptLoop.stop()
        housekeeping.stop()
        detection.stop()
        shutdownTimer?.stop()
        metrics?.listener.stop()
        metrics?.loopClock.stop()
    }
}
