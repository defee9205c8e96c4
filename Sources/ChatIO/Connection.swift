import CLibEv
import ChatCore

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
    var framer: LineFramer
    /// Output the socket did not accept yet; `backlogStart` is how much of it was written since
    /// (consumed by offset, compacted lazily).
    var backlog: [UInt8] = []
    var backlogStart = 0
    /// When `pendingOutput` first went over the soft limit, or nil while under it.
    var overSoftLimitSince: Double?
    /// Set by `/quit`, EOF or shutdown: stop reading, close once the backlog drains.
    var closeAfterFlush = false
    var isClosed = false
    /// Flood control, when enabled: tokens for lines, lines held back while it had none, and
    /// since when it has been held back.
    var bucket: TokenBucket?
    var heldEvents: [LineFramer.Event] = []
    var throttledSince: Double?
    /// The client half-closed (read returned EOF); only its pending output remains to send.
    var peerClosed = false
    /// Reads are paused until then (a wrong server password); see ChatServer+Accounts.swift.
    var penaltyUntil: Double?
    /// The read watcher at [0] and the write watcher at [1]: allocated once, so the addresses
    /// libev keeps stay valid; freed in deinit, after `stopWatchers()` has stopped both.
    private let watchers: UnsafeMutablePointer<ev_io>
    private unowned(unsafe) let server: ChatServer

    init(id: ClientID, fd: Int32, address: String, maxLineBytes: Int, bucket: TokenBucket?, server: ChatServer) {
        self.id = id
        self.bucket = bucket
        self.fd = fd
        self.address = address
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

    var pendingOutput: Int { backlog.count - backlogStart }

    /// The IP address without the port, for the per-address limit.
    var host: Substring { ClientAddress.host(of: address) }

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

    /// Marks `count` backlog bytes as written; frees the storage once empty, and compacts when
    /// the written prefix outweighs what is left.
    func consumeBacklog(_ count: Int) {
        backlogStart += count
        if backlogStart == backlog.count {
            backlog = []
            backlogStart = 0
        } else if backlogStart > 65536 && backlogStart * 2 > backlog.count {
            backlog.removeSubrange(0..<backlogStart)
            backlogStart = 0
        }
    }
}
