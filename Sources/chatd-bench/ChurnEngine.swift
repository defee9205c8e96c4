import EventIO
import Glibc

/// Connection churn: `concurrency` clients at a time each connect, wait for the server's first
/// line (the welcome, proof the server accepted and registered it), and close; repeat.
///
/// With `say`, each cycle does real chat work too: `listeners` clients sit in the room reading
/// everything (join and quit notices and the line), and each churning client says one line as
/// soon as it is connected (as a script piping into nc does) and closes after its welcome — so
/// the server renders the welcome, the room's history replay, the notices and one fan-out per
/// cycle. Talking first also lets chatd's protocol detection decide at once instead of waiting
/// `--protocol-wait` for a silent client; a server that greets first does the same work. `prefill` lines are said first by a listener, so the
/// room has a history to replay.
///
/// With `tls` each connection first makes a full TLS handshake (no session reuse), driven by its
/// read watcher, so the count is full handshakes per second.
final class ChurnEngine {
    private let reactor: Reactor
    private let server: SocketAddress
    private let concurrency: Int
    private let sources: Int
    private var watchers: [Int32: IOWatcher] = [:]
    private var nextSource = 0
    private(set) var completed = 0
    private(set) var failures = 0
    private var running = false
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    var onProgress: ((String) -> Void)?

    private let greeting: [UInt8]?
    /// What a churning client sends as soon as it can: the greeting, then the line it says.
    private let opening: [UInt8]?

    private let sourceNet: Int
    private let say: [UInt8]?
    private let listenerCount: Int
    private let prefill: Int
    private var listeners: [(fd: Int32, watcher: IOWatcher)] = []
    private let tls: TLSClientContext?
    private let host: String
    private var sessions: [Int32: TLSClientSession] = [:]

    init(reactor: Reactor, server: SocketAddress, concurrency: Int, sources: Int, sourceNet: Int, greeting: String?,
         say: String? = nil, listeners: Int = 0, prefill: Int = 0, tls: TLSClientContext? = nil, host: String = "127.0.0.1") {
        self.sourceNet = sourceNet
        self.say = say.map { Array(($0 + "\n").utf8) }
        self.listenerCount = listeners
        self.prefill = prefill
        self.tls = tls
        self.host = host
        self.greeting = greeting.map { Array(($0 + "\r\n").utf8) }
        opening = self.greeting == nil && self.say == nil ? nil : (self.greeting ?? []) + (self.say ?? [])
        self.reactor = reactor
        self.server = server
        self.concurrency = concurrency
        self.sources = sources
    }

    deinit {
        for (fd, watcher) in watchers {
            watcher.stop()
            Socket.close(fd)
        }
        for listener in listeners {
            listener.watcher.stop()
            Socket.close(listener.fd)
        }
        buffer.deallocate()
    }

    /// Churns for `seconds`; returns completed cycles.
    func run(seconds: Double) -> Int {
        running = true
        for _ in 0..<concurrency { openOne() }
        let stopper = TimerWatcher(reactor: reactor, after: seconds, repeat: 0) { [unowned self] in
            running = false
            reactor.stop()
        }
        stopper.start()
        reactor.run()
        stopper.stop()
        return completed
    }

    /// Connects the listeners (they read and discard everything) and says the prefill lines;
    /// call before `run`, outside the measured time.
    func openListeners() throws {
        for index in 0..<listenerCount {
            let fd = try LoadClient.connect(to: server, from: nil)
            let watcher = IOWatcher(reactor: reactor, fd: fd, events: .read) { [unowned self] _ in
                _ = try? Socket.read(fd, into: buffer)
            }
            watcher.start()
            listeners.append((fd, watcher))
            if index == 0 && prefill > 0 {
                let lines = Array((0..<prefill).map { "history line \($0) for the replay\n" }.joined().utf8)
                _ = lines.withUnsafeBytes { try? Socket.write(fd, $0) }
            }
        }
        if listenerCount > 0 {  // let the listeners register (silent ones after the protocol wait) and the prefill be said
            let settle = TimerWatcher(reactor: reactor, after: 1.0, repeat: 0) { [unowned self] in reactor.stop() }
            settle.start()
            reactor.run()
            settle.stop()
        }
    }

    private func openOne() {
        guard running else { return }
        let source = sources > 0 ? sourceAddress(net: sourceNet, index: nextSource % sources) : nil
        nextSource += 1
        do {
            let fd = try LoadClient.connect(to: server, from: source)
            let watcher = IOWatcher(reactor: reactor, fd: fd, events: .read) { [unowned self] _ in readable(fd) }
            watchers[fd] = watcher
            watcher.start()
            if let tls {
                let session = try TLSClientSession(context: tls, fd: fd, host: host)
                sessions[fd] = session
                _ = try session.continueHandshake()  // sends the ClientHello
            } else if let opening {
                _ = opening.withUnsafeBytes { try? Socket.write(fd, $0) }
            }
        } catch {
            failures += 1
            if failures <= 3 { onProgress?("connect: \(error)") }
            if failures > 1000 { running = false; reactor.stop() }
        }
    }

    private func readable(_ fd: Int32) {
        let result: IOResult?
        if let session = sessions[fd] {
            result = tlsReadable(session)
        } else {
            result = try? Socket.read(fd, into: buffer)
        }
        var finished = false
        switch result {
        case .done(let count)?:
            finished = buffer[0..<count].contains(0x0A)
            if finished { completed += 1 }
        case .wouldBlock?:
            return
        default:
            failures += 1
            finished = true
        }
        guard finished else { return }
        watchers[fd]?.stop()
        watchers[fd] = nil
        sessions[fd]?.shutdown()
        sessions[fd] = nil
        Socket.close(fd)
        openOne()
    }

    /// Moves the handshake on, sends the opening once it is done, then reads: nil on failure.
    private func tlsReadable(_ session: TLSClientSession) -> IOResult? {
        do {
            if !session.isEstablished {
                guard try session.continueHandshake() else { return .wouldBlock }
                if let opening { _ = try opening.withUnsafeBytes { try session.write($0) } }
            }
            return try session.read(into: buffer)
        } catch {
            if failures < 3 { onProgress?("TLS: \(error)") }
            return nil
        }
    }
}
