import CLibEv
import Glibc

/// One libev loop (epoll backend). Single-threaded: every watcher and callback of a reactor runs
/// on the thread that calls `run()`.
public final class Reactor {
    /// `struct ev_loop *`; owned when created with `makePrivate()`.
    public let loop: OpaquePointer
    private let ownsLoop: Bool

    private init(loop: OpaquePointer, ownsLoop: Bool) {
        self.loop = loop
        self.ownsLoop = ownsLoop
    }

    /// The process's default loop: the only one that may watch signals.
    public static func makeDefault() throws(SystemError) -> Reactor {
        guard let loop = ev_default_loop(UInt32(EVBACKEND_EPOLL)) else {
            throw SystemError("ev_default_loop", "epoll backend", errno: 0)
        }
        return Reactor(loop: loop, ownsLoop: false)
    }

    /// A private loop, for tests and for tools that run several loops.
    public static func makePrivate() throws(SystemError) -> Reactor {
        guard let loop = ev_loop_new(UInt32(EVBACKEND_EPOLL)) else {
            throw SystemError("ev_loop_new", "epoll backend", errno: 0)
        }
        return Reactor(loop: loop, ownsLoop: true)
    }

    deinit {
        if ownsLoop { ev_loop_destroy(loop) }
    }

    /// Runs until `stop()` is called or no active watcher remains.
    public func run() { _ = ev_run(loop, 0) }

    /// Runs one iteration; with `wait: false` it only handles what is ready now (tests).
    public func runOnce(wait: Bool) { _ = ev_run(loop, wait ? Int32(EVRUN_ONCE) : Int32(EVRUN_NOWAIT)) }

    /// Makes `run()` return after the current iteration.
    public func stop() { ev_break(loop, Int32(EVBREAK_ALL)) }

    /// The loop's cached time in seconds (updated once per iteration; cheap).
    public var now: Double { ev_now(loop) }
}

/// libev's `EV_READ`/`EV_WRITE`, converted once (they import as plain integers).
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let read = IOEvents(rawValue: Int32(EV_READ))
    public static let write = IOEvents(rawValue: Int32(EV_WRITE))
}

/// An I/O watcher that calls a closure. For the few long-lived watchers (listener, stdin);
/// per-client watchers live inside `Connection` without a closure, to stay small.
public final class IOWatcher {
    private let reactor: Reactor
    /// Allocated so the address libev keeps is stable; freed in deinit after stopping.
    private let watcher: UnsafeMutablePointer<ev_io>
    private let handler: (IOEvents) -> Void

    public init(reactor: Reactor, fd: Int32, events: IOEvents, handler: @escaping (IOEvents) -> Void) {
        self.reactor = reactor
        self.handler = handler
        watcher = .allocate(capacity: 1)
        clibev_io_init(watcher, { _, watcher, revents in
            guard let data = watcher?.pointee.data else { return }
            Unmanaged<IOWatcher>.fromOpaque(data).takeUnretainedValue().handler(IOEvents(rawValue: revents))
        }, fd, events.rawValue)
        // Unretained: the owner keeps this object alive and deinit stops the watcher first.
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    public var isActive: Bool { clibev_is_active(watcher) != 0 }
    public func start() { ev_io_start(reactor.loop, watcher) }
    public func stop() { ev_io_stop(reactor.loop, watcher) }

    deinit {
        stop()
        watcher.deallocate()
    }
}

/// A timer watcher that calls a closure. `again()` restarts a repeating timer without the
/// remove/insert cost of stop+start (libev manual, "Be smart about timeouts").
public final class TimerWatcher {
    private let reactor: Reactor
    private let watcher: UnsafeMutablePointer<ev_timer>
    private let handler: () -> Void

    public init(reactor: Reactor, after: Double, repeat interval: Double, handler: @escaping () -> Void) {
        self.reactor = reactor
        self.handler = handler
        watcher = .allocate(capacity: 1)
        clibev_timer_init(watcher, { _, watcher, _ in
            guard let data = watcher?.pointee.data else { return }
            Unmanaged<TimerWatcher>.fromOpaque(data).takeUnretainedValue().handler()
        }, after, interval)
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    public var isActive: Bool { clibev_is_active(watcher) != 0 }
    public func start() { ev_timer_start(reactor.loop, watcher) }
    public func stop() { ev_timer_stop(reactor.loop, watcher) }

    /// Re-arms to fire `after` seconds from now (refreshing the loop's cached clock first), once (and then every `repeat` if non-zero).
    public func schedule(after: Double, repeat interval: Double = 0) {
        stop()
        ev_now_update(reactor.loop)
        clibev_timer_set(watcher, after, interval)
        start()
    }

    deinit {
        stop()
        watcher.deallocate()
    }
}

/// A signal watcher that calls a closure on the loop thread (not in signal context).
public final class SignalWatcher {
    private let reactor: Reactor
    private let watcher: UnsafeMutablePointer<ev_signal>
    private let handler: () -> Void

    public init(reactor: Reactor, signal: Int32, handler: @escaping () -> Void) {
        self.reactor = reactor
        self.handler = handler
        watcher = .allocate(capacity: 1)
        clibev_signal_init(watcher, { _, watcher, _ in
            guard let data = watcher?.pointee.data else { return }
            Unmanaged<SignalWatcher>.fromOpaque(data).takeUnretainedValue().handler()
        }, signal)
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    /// Starts watching and unblocks the signal: a process started from a thread that had it
    /// blocked (a supervisor, Foundation's Process) inherits that mask, and libev leaves it.
    public func start() {
        ev_signal_start(reactor.loop, watcher)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, watcher.pointee.signum)
        let result = pthread_sigmask(SIG_UNBLOCK, &set, nil)
        precondition(result == 0, "pthread_sigmask(SIG_UNBLOCK): \(result)")
    }

    public func stop() { ev_signal_stop(reactor.loop, watcher) }

    deinit {
        stop()
        watcher.deallocate()
    }
}

/// Runs a closure just before the loop blocks for I/O: where coalesced output is flushed
/// (redis's `beforeSleep`).
public final class PrepareWatcher {
    private let reactor: Reactor
    private let watcher: UnsafeMutablePointer<ev_prepare>
    private let handler: () -> Void

    /// `priority` orders the prepare watchers of one iteration: higher runs first (libev's
    /// `ev_set_priority`, -2…2; set here, while the watcher is inactive).
    public init(reactor: Reactor, priority: Int32 = 0, handler: @escaping () -> Void) {
        self.reactor = reactor
        self.handler = handler
        watcher = .allocate(capacity: 1)
        clibev_prepare_init(watcher, { _, watcher, _ in
            guard let data = watcher?.pointee.data else { return }
            Unmanaged<PrepareWatcher>.fromOpaque(data).takeUnretainedValue().handler()
        })
        watcher.pointee.priority = priority
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    public func start() { ev_prepare_start(reactor.loop, watcher) }
    public func stop() { ev_prepare_stop(reactor.loop, watcher) }

    deinit {
        stop()
        watcher.deallocate()
    }
}
