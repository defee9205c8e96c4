import CLibEv
import ChatCore

/// Runs a closure right after the loop wakes from polling, before any other callback of the
/// iteration (libev queues check watchers to run first).
final class CheckWatcher {
    private let reactor: Reactor
    private let watcher: UnsafeMutablePointer<ev_check>
    private let handler: () -> Void

    init(reactor: Reactor, handler: @escaping () -> Void) {
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

    func start() { ev_check_start(reactor.loop, watcher) }
    func stop() { ev_check_stop(reactor.loop, watcher) }

    deinit {
        stop()
        watcher.deallocate()
    }
}

/// Measures each loop iteration's busy time: from the moment the loop wakes (a check watcher)
/// to the end of the prepare callback's flush, just before it sleeps again. That is how long an
/// event arriving at the start of a busy iteration waits to be looked at: the loop lag an
/// operator alarms on. Idle time asleep in epoll is not counted. Two monotonic clock reads
/// (vDSO, no system call) and a histogram update per iteration; only runs with `--metrics`.
final class LoopIterationClock {
    private(set) var durations = Histogram(bounds: Histogram.loopIterationBounds)
    private var wokeAt: Double?
    private var check: CheckWatcher!

    init(reactor: Reactor) {
        check = CheckWatcher(reactor: reactor) { [unowned self] in wokeAt = monotonicSeconds() }
    }

    func start() { check.start() }
    func stop() { check.stop() }

    /// From the end of the prepare callback: the iteration's work is done.
    func iterationEnded() {
        guard let wokeAt else { return }
        durations.observe(monotonicSeconds() - wokeAt)
        self.wokeAt = nil
    }
}
