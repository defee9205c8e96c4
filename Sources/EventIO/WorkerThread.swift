import CLibEv
import Glibc

/// A plain POSIX thread running one closure, for work that must leave the loop thread (disk,
/// password hashing). `join()` waits for it to finish.
public final class WorkerThread: @unchecked Sendable {
    // @unchecked: `thread` is written once in init and read only by join() on the creating thread.
    private var thread = pthread_t()

    public init(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) {
        final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
        // Retained here, released by the thread once it has taken the closure.
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
            box.body()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(context).release()
            throw SystemError("pthread_create", name, errno: result)
        }
        pthread_setname_np(thread, String(name.prefix(15)))
    }

    public func join() { pthread_join(thread, nil) }
}
