import CHiredis
import CLibEv
import EventIO
import Glibc

/// One asynchronous hiredis connection on the reactor's own loop (hiredis's libev adapter: a
/// read and a write watcher, no thread). Commands are binary-safe argument vectors; replies come
/// back on the loop, in order, as `RedisReply` values.
///
/// Lifetime: hiredis owns the `redisAsyncContext` and frees it after a disconnect; the context's
/// `data` holds an unretained pointer to this object, cleared before this object goes away, so
/// a late callback finds nil and does nothing. A pending command's callback holds a retained
/// box, released when hiredis calls it (with a reply, or with none when the link goes down).
final class RedisConnection {
    /// Called once when the connection is up (status nil) or failed to come up (its error).
    var connected: ((String?) -> Void)?
    /// Called once when an established connection is lost (the error), after which hiredis
    /// has freed the context.
    var disconnected: ((String) -> Void)?
    /// Called for every pub/sub `message` push on a subscriber connection with its payload,
    /// valid for the call only (hiredis frees the reply after it): the hot receiving path
    /// copies nothing it does not keep.
    var pushed: ((UnsafeRawBufferPointer) -> Void)?
    /// The argument vector of `publish`, allocated once: a published room line is the hot
    /// sending path. Freed in deinit.
    private let publishArguments = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: 3)
    private let publishLengths = UnsafeMutablePointer<Int>.allocate(capacity: 3)
    private let publishWord: UnsafeMutablePointer<CChar>? = strdup("PUBLISH")

    private var context: UnsafeMutablePointer<redisAsyncContext>?
    /// Commands sent and not yet answered: the bound on what a stalled Redis can make us buffer.
    private(set) var inFlight = 0

    var isOpen: Bool { context != nil }

    /// Starts connecting to `host`:`port` on `reactor`; throws at once when hiredis cannot even
    /// start (out of memory, a bad address).
    init(host: String, port: Int, reactor: Reactor) throws {
        guard let context = redisAsyncConnect(host, Int32(port)) else { throw ClusterError("redisAsyncConnect(\(host):\(port)): out of memory") }
        if context.pointee.err != 0 {
            let reason = context.pointee.errstr.map { String(cString: $0) } ?? "error \(context.pointee.err)"
            redisAsyncFree(context)
            throw ClusterError("redis \(host):\(port): \(reason)")
        }
        self.context = context
        context.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        guard chiredis_libev_attach(reactor.loop, context) == REDIS_OK else {
            context.pointee.data = nil
            redisAsyncFree(context)
            self.context = nil
            throw ClusterError("redisLibevAttach: a loop was already attached")
        }
        // The adapter's read watcher reads once per event, and hiredis reads at most 16 KiB at
        // a time: a node taking more than 16 KiB of pushes per loop iteration would fall
        // behind Redis for good (until Redis cut it at its pub/sub output limit). The watcher
        // (in the adapter's `redisLibevEvents`, freed with the context) gets `drainReadable`.
        if let events = context.pointee.ev.data?.assumingMemoryBound(to: redisLibevEvents.self) {
            events.pointee.rev.cb = RedisConnection.drainReadable
        }
        redisAsyncSetConnectCallback(context) { context, status in
            guard let owner = RedisConnection.owner(of: context) else { return }
            if status == REDIS_OK {
                owner.connected?(nil)
            } else {
                // hiredis frees the context after this callback; the disconnect callback does not run.
                let reason = context.flatMap { $0.pointee.errstr.map { String(cString: $0) } } ?? "connection failed"
                owner.context = nil
                owner.connected?(reason)
            }
        }
        redisAsyncSetDisconnectCallback(context) { context, status in
            guard let owner = RedisConnection.owner(of: context) else { return }
            let reason = status == REDIS_OK ? "closed" : (context.flatMap { $0.pointee.errstr.map { String(cString: $0) } } ?? "connection lost")
            owner.context = nil
            owner.inFlight = 0
            owner.disconnected?(reason)
        }
    }

    deinit {
        close()
        publishArguments.deallocate()
        publishLengths.deallocate()
        free(publishWord)
    }

    /// PUBLISH with no reply handler: the answer only counts down `inFlight`. No allocation
    /// beyond hiredis's own buffer.
    @discardableResult
    func publish(channel: String, payload: [UInt8]) -> Bool {
        guard let context, let publishWord, !payload.isEmpty else { return false }
        var channel = channel
        let status = channel.withUTF8 { channelBytes in
            payload.withUnsafeBufferPointer { payloadBytes -> Int32 in
                publishArguments[0] = UnsafePointer(publishWord)
                publishArguments[1] = UnsafeRawPointer(channelBytes.baseAddress).map { $0.assumingMemoryBound(to: CChar.self) }
                publishArguments[2] = UnsafeRawPointer(payloadBytes.baseAddress).map { $0.assumingMemoryBound(to: CChar.self) }
                publishLengths[0] = 7
                publishLengths[1] = channelBytes.count
                publishLengths[2] = payloadBytes.count
                return redisAsyncCommandArgv(context, { context, _, _ in
                    RedisConnection.owner(of: context)?.inFlight -= 1
                }, nil, 3, publishArguments, publishLengths)
            }
        }
        guard status == REDIS_OK else { return false }
        inFlight += 1
        return true
    }

    /// Writes what hiredis holds for this connection now, without the loop (at exit, when the
    /// loop no longer runs the write watcher): a few attempts on the non-blocking socket.
    func flushOutput() {
        for _ in 0..<16 {
            guard let context, context.pointee.c.flags & REDIS_CONNECTED != 0 else { return }
            redisAsyncHandleWrite(context)
        }
    }

    /// Closes now: pending callbacks run with no reply, and no callback reaches this object again.
    func close() {
        guard let context else { return }
        self.context = nil
        context.pointee.data = nil
        redisAsyncFree(context)
    }

    /// Asks hiredis to close once pending replies are in; `disconnected` is called then.
    func disconnect() {
        guard let context else { return }
        redisAsyncDisconnect(context)
    }

    /// Reads per event while anything is still waiting after hiredis's 16 KiB read
    /// (`FIONREAD`), at most `readsPerEvent` times (1 MiB); what is left then waits for the
    /// next event, so one busy connection cannot hold the loop.
    static let readsPerEvent = 64

    /// The read watcher's callback: `redisAsyncHandleRead` until nothing is left to read. The
    /// context (and the adapter's events with it) may be freed inside any of those calls; the
    /// owner, held for the call, says whether it is still there.
    private static let drainReadable: @convention(c) (OpaquePointer?, UnsafeMutablePointer<ev_io>?, Int32) -> Void = { _, watcher, _ in
        guard let events = watcher?.pointee.data?.assumingMemoryBound(to: redisLibevEvents.self),
              let context = events.pointee.context else { return }
        guard let owner = RedisConnection.owner(of: context) else { return redisAsyncHandleRead(context) }
        for _ in 0..<readsPerEvent {
            redisAsyncHandleRead(context)
            guard owner.context == context else { return }  // closed or lost meanwhile: context freed
            var waiting: Int32 = 0
            guard ioctl(context.pointee.c.fd, UInt(FIONREAD), &waiting) == 0, waiting > 0 else { return }
        }
    }

    private static func owner(of context: UnsafePointer<redisAsyncContext>?) -> RedisConnection? {
        guard let data = context?.pointee.data else { return nil }
        return Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
    }

    private final class ReplyBox {
        let handler: (RedisReply?) -> Void
        init(_ handler: @escaping (RedisReply?) -> Void) { self.handler = handler }
    }

    /// Sends a command; `reply` gets the answer, or nil when the connection went down first.
    /// Returns false when the connection is not open (nothing was sent).
    @discardableResult
    func send(_ arguments: [[UInt8]], reply: ((RedisReply?) -> Void)? = nil) -> Bool {
        guard let context else { return false }
        let box = Unmanaged.passRetained(ReplyBox { [weak self] answer in
            self?.inFlight -= 1
            reply?(answer)
        })
        let status = RedisConnection.withArgv(arguments) { argc, argv, lengths in
            redisAsyncCommandArgv(context, { context, reply, privdata in
                guard let privdata else { return }
                // Retained when sent, released here: hiredis calls each command's callback once.
                let box = Unmanaged<ReplyBox>.fromOpaque(privdata).takeRetainedValue()
                box.handler(reply.map { RedisReply($0.assumingMemoryBound(to: redisReply.self)) })
            }, box.toOpaque(), argc, argv, lengths)
        }
        guard status == REDIS_OK else {
            box.release()
            return false
        }
        inFlight += 1
        return true
    }

    /// Sends a command whose answer only counts down `inFlight` (no box, no closure).
    @discardableResult
    func sendWithoutReply(_ arguments: [[UInt8]]) -> Bool {
        guard let context else { return false }
        let status = RedisConnection.withArgv(arguments) { argc, argv, lengths in
            redisAsyncCommandArgv(context, { context, _, _ in
                RedisConnection.owner(of: context)?.inFlight -= 1
            }, nil, argc, argv, lengths)
        }
        guard status == REDIS_OK else { return false }
        inFlight += 1
        return true
    }

    /// Sends SUBSCRIBE or UNSUBSCRIBE: every push for those channels goes to `pushed`.
    @discardableResult
    func subscription(_ arguments: [[UInt8]]) -> Bool {
        guard let context else { return false }
        let status = RedisConnection.withArgv(arguments) { argc, argv, lengths in
            redisAsyncCommandArgv(context, { context, reply, _ in
                guard let reply, let owner = RedisConnection.owner(of: context), let pushed = owner.pushed else { return }
                // ["message", channel, payload]; subscribe confirmations and anything else are skipped.
                let push = reply.assumingMemoryBound(to: redisReply.self).pointee
                guard push.type == REDIS_REPLY_ARRAY, push.elements == 3, let parts = push.element,
                      let kind = parts[0]?.pointee, kind.type == REDIS_REPLY_STRING, kind.len == 7,
                      let kindText = kind.str, memcmp(kindText, "message", 7) == 0,
                      let payload = parts[2]?.pointee, payload.type == REDIS_REPLY_STRING, let bytes = payload.str else { return }
                pushed(UnsafeRawBufferPointer(start: bytes, count: payload.len))
            }, nil, argc, argv, lengths)
        }
        return status == REDIS_OK
    }

    /// Lends hiredis the arguments as C pointers for the call only (it copies them into its
    /// output buffer before returning).
    static func withArgv<Result>(_ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result) -> Result {
        let joined: [UInt8] = Array(arguments.joined()) + [0]
        return joined.withUnsafeBufferPointer { all in
            // Never empty (the trailing 0), so it has a base address.
            let base = UnsafeRawPointer(all.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = []
            var lengths: [Int] = []
            var offset = 0
            for argument in arguments {
                pointers.append(base + offset)
                lengths.append(argument.count)
                offset += argument.count
            }
            pointers.append(nil)
            lengths.append(0)
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { body(Int32(arguments.count), argv.baseAddress!, $0.baseAddress!) }
            }
        }
    }
}

/// A cluster failure worth one line (start-up, Redis refusing).
public struct ClusterError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
