import CLibEv
import ChatCore
import EventIO

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
