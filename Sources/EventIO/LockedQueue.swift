import Glibc

/// A FIFO shared between threads: a pthread mutex and condition variable around an array.
/// Producers `push`; the consumer `take`s everything queued at once, so a busy producer hands
/// over whole batches and the lock is taken once per batch, not per item.
public final class LockedQueue<Item: Sendable>: @unchecked Sendable {
    // @unchecked: every access to `items` and `closed` happens with `mutex` held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var items: [Item] = []
    private var closed = false

    public init() {
        // Allocated: pthread objects must not move, and Swift may move stored structs.
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init")
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        precondition(pthread_cond_init(condition, &attributes) == 0, "pthread_cond_init")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    public func push(_ item: Item) {
        locked { items.append(item) }
        pthread_cond_signal(condition)
    }

    public func push(contentsOf batch: [Item]) {
        locked { items.append(contentsOf: batch) }
        pthread_cond_signal(condition)
    }

    /// Marks the queue closed and wakes the consumer; items already queued are still taken.
    public func close() {
        locked { closed = true }
        pthread_cond_broadcast(condition)
    }

    /// Everything queued now, without waiting.
    public func takeAll() -> [Item] {
        locked {
            let batch = items
            items.removeAll(keepingCapacity: true)
            return batch
        }
    }

    /// Waits until something is queued, the queue is closed, or `timeout` seconds pass; returns
    /// what is queued (possibly nothing) and whether the queue is closed.
    public func take(waitingAtMost timeout: Double) -> (items: [Item], closed: Bool) {
        locked {
            if items.isEmpty && !closed {
                var deadline = timespec()
                clock_gettime(CLOCK_MONOTONIC, &deadline)
                let nanoseconds = Int(deadline.tv_nsec) + Int(max(0, timeout) * 1e9)
                deadline.tv_sec += nanoseconds / 1_000_000_000
                deadline.tv_nsec = nanoseconds % 1_000_000_000
                while items.isEmpty && !closed {
                    if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
                }
            }
            let batch = items
            items.removeAll(keepingCapacity: true)
            return (batch, closed)
        }
    }
}
