import CLibEv

/// An `ev_async` watcher that calls a closure on the loop thread when another thread wakes it.
/// `ev_async_send` is libev's one thread-safe call, and wake-ups coalesce: the closure runs
/// once per loop iteration however many sends came in.
public final class AsyncWatcher: @unchecked Sendable {
    // @unchecked: started, stopped and handled only on the loop thread; other threads reach it
    // only through `wake()`, i.e. ev_async_send.
    private let loop: OpaquePointer
    /// Allocated so the address libev keeps is stable; freed in deinit after stopping.
    private let watcher: UnsafeMutablePointer<ev_async>
    private let handler: () -> Void

    public init(reactor: Reactor, handler: @escaping () -> Void) {
        loop = reactor.loop
        self.handler = handler
        watcher = .allocate(capacity: 1)
        clibev_async_init(watcher, { _, watcher, _ in
            guard let data = watcher?.pointee.data else { return }
            Unmanaged<AsyncWatcher>.fromOpaque(data).takeUnretainedValue().handler()
        })
        // Unretained: the owner keeps this object alive and deinit stops the watcher first.
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        ev_async_stop(loop, watcher)
        watcher.deallocate()
    }

    public func start() { ev_async_start(loop, watcher) }
    public func stop() { ev_async_stop(loop, watcher) }
    /// From any thread.
    public func wake() { ev_async_send(loop, watcher) }
}

/// Messages from other threads to the loop thread: a locked queue plus an `AsyncWatcher`.
/// The handler gets, on the loop thread, every message posted since it last ran.
public final class AsyncInbox<Message: Sendable>: @unchecked Sendable {
    // @unchecked: `queue` is thread-safe; `watcher` is loop-thread only except for wake().
    private let queue = LockedQueue<Message>()
    private var watcher: AsyncWatcher!
    private let handler: ([Message]) -> Void

    public init(reactor: Reactor, handler: @escaping ([Message]) -> Void) {
        self.handler = handler
        watcher = AsyncWatcher(reactor: reactor) { [unowned self] in deliver() }
    }

    public func start() { watcher.start() }
    public func stop() { watcher.stop() }

    /// From any thread: queue `message` and wake the loop.
    public func post(_ message: Message) {
        queue.push(message)
        watcher.wake()
    }

    /// On the loop thread: hands everything queued to the handler now (also called once the
    /// loop has stopped, so nothing posted during shutdown goes unhandled).
    public func deliver() {
        let messages = queue.takeAll()
        if !messages.isEmpty { handler(messages) }
    }
}
