import ChatIO
import Glibc

/// Connection churn: `concurrency` clients at a time each connect, wait for the server's first
/// line (the welcome, proof the server accepted and registered it), and close; repeat.
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

    private let sourceNet: Int

    init(reactor: Reactor, server: SocketAddress, concurrency: Int, sources: Int, sourceNet: Int, greeting: String?) {
        self.sourceNet = sourceNet
        self.greeting = greeting.map { Array(($0 + "\r\n").utf8) }
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

    private func openOne() {
        guard running else { return }
        let source = sources > 0 ? sourceAddress(net: sourceNet, index: nextSource % sources) : nil
        nextSource += 1
        do {
            let fd = try LoadClient.connect(to: server, from: source)
            let watcher = IOWatcher(reactor: reactor, fd: fd, events: .read) { [unowned self] _ in readable(fd) }
            watchers[fd] = watcher
            watcher.start()
            if let greeting { _ = greeting.withUnsafeBytes { try? Socket.write(fd, $0) } }
        } catch {
            failures += 1
            if failures <= 3 { onProgress?("connect: \(error)") }
            if failures > 1000 { running = false; reactor.stop() }
        }
    }

    private func readable(_ fd: Int32) {
        let result = try? Socket.read(fd, into: buffer)
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
        Socket.close(fd)
        openOne()
    }
}
