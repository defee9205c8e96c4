import CLibEv

/// Runs a closure right after the loop wakes from polling, before any other callback of the
/// iteration (libev queues check watchers to run first).
public final class CheckWatcher {
    private let reactor: Reactor
    private let watcher: UnsafeMutablePointer<ev_check>
    private let handler: () -> Void

    public init(reactor: Reactor, handler: @escaping () -> Void) {
        self.reactor = reactor
        self.handler = handler
        watcher = .allocate(capacity: 1)
        clibev_check_init(watcher) { _, watcher, _ in
            guard let data = watcher?.pointee.data else { return }
            Unmanaged<CheckWatcher>.fromOpaque(data).takeUnretainedValue().handler()
        }
        // Unretained: the owner keeps this object alive and deinit stops the watcher first.
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    public func start() { ev_check_start(reactor.loop, watcher) }
    public func stop() { ev_check_stop(reactor.loop, watcher) }

    deinit {
        stop()
        watcher.deallocate()
    }
}
