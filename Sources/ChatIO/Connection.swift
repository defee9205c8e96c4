import CLibEv
import ChatCore
import EventIO

/// One client socket and what the server holds for it between loop iterations: the framer's
/// unfinished line and the private backlog of output the socket would not take yet.
///
/// Output normally never lands here: it is written straight from the shared `Outbox` at the end
/// of each iteration. Only the unwritten rest is copied into `backlog`, so a client that keeps
/// up holds no output buffer at all, and a slow one pins none of the shared arena.
final class Connection {
    let id: ClientID
    let fd: Int32
    let address: String
    /// What carries the bytes (plain TCP, TLS): the server reads and writes only through it.
    let transport: Transport
    /// The transport's handshake is done; the hub knows this client once `awaitsFirstBytes` is
    /// false too.
    var isEstablished = false
    /// Established, but its first bytes have not chosen its protocol yet: the hub does not know
    /// it, and what it sent is kept in `firstBytes` (ProtocolDetection).
    var awaitsFirstBytes = false
    /// What an undecided connection has sent so far (fewer than `Dialects.longestOpening` bytes).
    var firstBytes: [UInt8] = []
    /// The web door, for a connection detection found to speak HTTP (with `--web`): its bytes
    /// are an HTTP request, then WebSocket frames, not lines (ClientInput asks it first).
    var web: WebDoor?
    /// The errno of a socket write that failed during the current operation (see `WireSink`),
    /// or 0; the client closes. An errno, not a `SystemError`, to keep every connection small.
    var writeErrno: Int32 = 0
    var framer: LineFramer
    /// Output the socket did not accept yet. Changed only through the methods below, which
    /// keep the server's client-memory total right.
    private(set) var backlog = ByteQueue()
    /// Input read from the socket but not yet framed: what was left of a read when flood
    /// control, the per-pass budget, the history writer's backlog or a pending password check
    /// stopped taking this client's input. At most one
    /// read's worth, kept at its wire size (parsed lines would cost tens of times more).
    private(set) var heldInput = ByteQueue()
    /// When `pendingOutput` first went over the soft limit, or nil while under it.
    var overSoftLimitSince: Double?
    /// Set by `/quit`, EOF or shutdown: stop reading, close once the backlog drains.
    var closeAfterFlush = false
    var isClosed = false
    /// Flood control, when enabled: tokens for lines, lines held back while it had none, and
    /// since when it has been held back.
    var bucket: TokenBucket?
    /// Since when flood control has held this client's input back (nil: it is not).
    var throttledSince: Double?
    /// The client half-closed (read returned EOF); only its pending output remains to send.
    var peerClosed = false
    /// Reads are paused until then (a wrong server password); see ReadPauses.swift.
    var penaltyUntil: Double?
    /// The hub holds this client's input while its password command is unanswered: reads are
    /// paused (`penaltyUntil` is infinity meanwhile, which the held-input timer and the penalty
    /// check already respect) and a real penalty set before waits in `penaltyBeforeHold`.
    var inputHeldForPassword = false
    var penaltyBeforeHold: Double?
    /// Why the I/O layer is closing it, when it decided (an output limit), for the metrics.
    var departure: DisconnectReason?
    /// The read watcher at [0] and the write watcher at [1]: allocated once, so the addresses
    /// libev keeps stay valid; freed in deinit, after `stopWatchers()` has stopped both.
    private let watchers: UnsafeMutablePointer<ev_io>
    unowned(unsafe) let server: ChatServer

    init(id: ClientID, fd: Int32, address: String, host: Substring, ip: IPAddress, transport: Transport, maxLineBytes: Int, bucket: TokenBucket?,
         server: ChatServer) {
        self.id = id
        self.transport = transport
        self.bucket = bucket
        self.fd = fd
        self.address = address
        self.host = host
        self.ip = ip
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
        self.server = server
        watchers = .allocate(capacity: 2)
        clibev_io_init(watchers, { _, watcher, _ in
            guard let data = watcher?.pointee.data else { return }
            let connection = Unmanaged<Connection>.fromOpaque(data).takeUnretainedValue()
            connection.server.readReady(connection)
        }, fd, IOEvents.read.rawValue)
        clibev_io_init(watchers + 1, { _, watcher, _ in
            guard let data = watcher?.pointee.data else { return }
            let connection = Unmanaged<Connection>.fromOpaque(data).takeUnretainedValue()
            connection.server.writeReady(connection)
        }, fd, IOEvents.write.rawValue)
        // Unretained: the server's connection table owns this object and stops both watchers
        // (close()) before dropping it.
        let me = Unmanaged.passUnretained(self).toOpaque()
        watchers[0].data = me
        watchers[1].data = me
    }

    deinit {
        precondition(clibev_is_active(watchers) == 0 && clibev_is_active(watchers + 1) == 0,
                     "connection released with a live watcher")
        watchers.deallocate()
    }

    var pendingOutput: Int { backlog.count }

    /// Bytes this client pins in the daemon: its output backlog and its held input. The sum
    /// over all clients is what the global client-memory budget bounds.
    var memoryInUse: Int { backlog.count + heldInput.count + countedPartialLine }

    /// The framer's unfinished line as last counted in the server's total.
    private var countedPartialLine = 0

    /// Brings the server's total up to date with the framer's unfinished line; called after
    /// every framing (a partial line can be up to `--max-line-bytes`).
    func countPartialLine() {
        let now = framer.bufferedBytes
        server.clientMemoryBytes += now - countedPartialLine
        countedPartialLine = now
    }

    /// The IP address without the port (the refusal's text), and parsed: the key of the
    /// per-address count, and the client's address in the hub. Both made once, at accept.
    let host: Substring
    let ip: IPAddress

    func startReading(_ loop: OpaquePointer) { ev_io_start(loop, watchers) }
    func stopReading(_ loop: OpaquePointer) { ev_io_stop(loop, watchers) }
    var isReading: Bool { clibev_is_active(watchers) != 0 }
    func startWriting(_ loop: OpaquePointer) { ev_io_start(loop, watchers + 1) }
    func stopWriting(_ loop: OpaquePointer) { ev_io_stop(loop, watchers + 1) }
    var isWriting: Bool { clibev_is_active(watchers + 1) != 0 }

    func stopWatchers(_ loop: OpaquePointer) {
        ev_io_stop(loop, watchers)
        ev_io_stop(loop, watchers + 1)
    }

    // MARK: Buffers (each change is reported to the server's client-memory total)

    /// Edits one of the two queues and moves the server's total by however much it changed:
    /// the one place the total is kept, so it cannot drift from the queues.
    private func edit(_ queue: ReferenceWritableKeyPath<Connection, ByteQueue>, _ change: (inout ByteQueue) -> Void) {
        let before = self[keyPath: queue].count
        change(&self[keyPath: queue])
        server.clientMemoryBytes += self[keyPath: queue].count - before
    }

    func appendToBacklog(_ bytes: UnsafeRawBufferPointer) { edit(\.backlog) { $0.append(bytes) } }

    /// Marks `count` backlog bytes as written.
    func consumeBacklog(_ count: Int) { edit(\.backlog) { $0.consume(count) } }

    /// Forgets unsent output (the client is being cut or is gone).
    func dropBacklog() { edit(\.backlog) { $0.removeAll() } }

    /// Keeps `bytes` as input to frame later, after what is already held.
    func holdInput(_ bytes: UnsafeRawBufferPointer) { edit(\.heldInput) { $0.append(bytes) } }

    /// Marks `count` held input bytes as framed.
    func consumeHeldInput(_ count: Int) { edit(\.heldInput) { $0.consume(count) } }

    /// Releases both buffers, at close.
    func releaseBuffers() {
        dropBacklog()
        consumeHeldInput(heldInput.count)
        server.clientMemoryBytes -= countedPartialLine
        countedPartialLine = 0
    }
}
