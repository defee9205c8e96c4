import ChatCore
import EventIO
import Glibc

/// The Prometheus endpoint on the chat server's reactor (`--metrics HOST:PORT`); what it serves
/// is `ServerMetrics.render`.
extension ChatServer {
    /// Serves metrics on `listener`, a bound, listening, non-blocking socket (see
    /// `Socket.listen`), and starts the loop clock. Before `start()`.
    public func enableMetrics(listener fd: Int32) throws -> SocketAddress {
        let endpoint: MetricsListener
        do {
            endpoint = try MetricsListener(reactor: reactor, fd: fd, logger: logger) { [unowned self] in Array(renderMetrics().utf8) }
        } catch {
            Socket.close(fd)
            throw error
        }
        endpoint.start()
        let clock = LoopIterationClock(reactor: reactor)
        clock.start()
        metrics = MetricsEndpoint(listener: endpoint, loopClock: clock)
        return endpoint.boundAddress
    }

    /// Binds `address` for the metrics endpoint and serves it (see `enableMetrics(listener:)`).
    public func enableMetrics(on address: SocketAddress) throws -> SocketAddress {
        try enableMetrics(listener: try Socket.listen(on: address, backlog: MetricsListener.backlog))
    }

    /// Every metric, in the text exposition format 0.0.4 (ServerMetrics.swift).
    public func renderMetrics() -> String { ServerMetrics.render(self) }
}
