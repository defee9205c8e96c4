import EventIO
import Foundation
import Glibc
import Histogram

/// What one run of the engine is asked to do.
struct LoadPlan {
    var host = "127.0.0.1"
    var port: UInt16 = 7878
    /// More ports (cluster nodes): client i connects to `[port] + extraPorts` round-robin.
    var extraPorts: [UInt16] = []
    var clients = 100
    /// Clients 0..<senders send; every client receives.
    var senders = 10
    /// Messages per second per sender; 0 means as fast as the window allows.
    var rate = 0.0
    /// At most this many messages per sender in flight (sent, not yet seen by every receiver).
    var window = 32
    /// Messages per sender in total; 0 means until the duration ends.
    var count = 0
    var warmup = 1.0
    var duration = 10.0
    /// Lines each client sends after connecting; `{i}` is replaced by the client's index.
    var setup: [String] = ["/nick b{i}", "/join #bench"]
    /// Lines senders send after connecting instead of `setup` (nil: the same as `setup`).
    var senderSetup: [String]?
    /// Whether senders also receive (chat rooms: yes; Redis publishers: no).
    var sendersReceive = true
    /// The message line; `{payload}` is replaced by the marker (which must end the line).
    var message = "{payload}"
    /// Filler bytes before the marker, to set the message size.
    var padding = 32
    /// Loopback source addresses to spread clients over (0: let the kernel pick).
    var sources = 0
    var sourceNet = 0
    var settle = 1.0
    /// TLS for every client (`--tls`), certificates unchecked: the server's cost is measured.
    var tls: TLSClientContext?
    /// Bytes every client must have received in one line before sending starts (IRC: ` 366 `,
    /// the end of the NAMES reply that ends a JOIN), so no message is sent into a room some
    /// receivers have not joined yet. Nil: wait `settle` seconds only.
    var readyLine: [UInt8]?
    /// How long to wait for every client to see `readyLine`.
    var readyTimeout = 60.0
    /// Answer `PING x` with `PONG x` (IRC servers ping silent clients and close them otherwise).
    var answersPing = false
    /// Every client on WebSocket (`--websocket`): chatd's web door at `GET /ws`.
    var webSocket = false
}

/// Counters and the latency histogram of one run.
struct LoadResult {
    var connected = 0
    var sent = 0
    var deliveries = 0
    var lost = 0
    var reordered = 0
    var seconds = 0.0
    var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
}

/// Drives many client connections on one reactor: connects, sends setup lines, then has the
/// senders send marked messages (paced, or as fast as a per-sender window allows) while every
/// client decodes markers from what it receives, counting deliveries, gaps and latency.
final class LoadEngine {
    let plan: LoadPlan
    let reactor: Reactor
    private var clients: [LoadClient] = []
    private var sentPerSender: [UInt32]
    private var deliveredPerSender: [Int]
    /// expectedNext[receiver * senders + sender]: the next sequence number due.
    private var expectedNext: [UInt32]
    private var result = LoadResult()
    private var measuring = false
    private var sending = false
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
    private var messagePrefix: [UInt8] = []
    private var messageSuffix: [UInt8] = []
    /// One WebSocket message being built (`--websocket`).
    private var scratch = ByteQueue(keepsCapacity: true)
    private var startTime: UInt64 = 0
    private var lastProgress = 0.0
    private var progressDeliveries = 0
    /// Per client: it has seen `plan.readyLine`.
    private var ready: [Bool] = []
    private var readyCount = 0
    var onProgress: ((String) -> Void)?

    init(plan: LoadPlan, reactor: Reactor) {
        self.plan = plan
        self.reactor = reactor
        sentPerSender = Array(repeating: 0, count: plan.senders)
        ready = Array(repeating: false, count: plan.clients)
        deliveredPerSender = Array(repeating: 0, count: plan.senders)
        expectedNext = Array(repeating: 0, count: plan.clients * max(plan.senders, 1))
        let parts = plan.message.components(separatedBy: "{payload}")
        messagePrefix = Array(parts[0].utf8) + Array(repeating: UInt8(ascii: "x"), count: plan.padding)
        messageSuffix = Array((parts.count > 1 ? parts[1] : "").utf8) + [0x0A]
    }

    deinit {
        clients.forEach { $0.close() }
        readBuffer.deallocate()
    }

    /// Connects every client and sends its setup lines.
    func connectAll() throws {
        let servers = try ([plan.port] + plan.extraPorts).map { try SocketAddress(host: plan.host, port: $0) }
        for index in 0..<plan.clients {
            let source = plan.sources > 0 ? sourceAddress(net: plan.sourceNet, index: index % plan.sources) : nil
            let fd = try LoadClient.connect(to: servers[index % servers.count], from: source)
            let session: TLSClientSession?
            do {
                session = try plan.tls.map { try LoadClient.handshake(fd, context: $0, host: plan.host) }
            } catch {
                Socket.close(fd)
                throw error
            }
            if plan.webSocket {
                do {
                    try WebSocketLink.upgrade(fd, host: plan.host, port: plan.port)
                } catch {
                    Socket.close(fd)
                    throw error
                }
            }
            let client = LoadClient(index: index, fd: fd, session: session)
            client.webSocket = plan.webSocket
            client.readWatcher = IOWatcher(reactor: reactor, fd: fd, events: .read) { [unowned self, unowned client] _ in
                readable(client)
            }
            client.writeWatcher = IOWatcher(reactor: reactor, fd: fd, events: .write) { [unowned self, unowned client] _ in
                flushClient(client)
            }
            client.readWatcher?.start()
            for line in index < plan.senders ? plan.senderSetup ?? plan.setup : plan.setup {
                Array(line.replacingOccurrences(of: "{i}", with: "\(index)").utf8).withUnsafeBytes { client.queue(line: $0) }
            }
            clients.append(client)
            flushClient(client)
            result.connected += 1
            if index % 1000 == 999 { reactor.runOnce(wait: false) }
        }
    }

    /// Lets setup replies drain, warms up, measures for `duration`, then waits for stragglers.
    func run() -> LoadResult {
        waitUntilReady()
        runFor(plan.settle)
        sending = true
        let ticker = TimerWatcher(reactor: reactor, after: 0.001, repeat: 0.001) { [unowned self] in tick() }
        let refill = PrepareWatcher(reactor: reactor) { [unowned self] in if plan.rate == 0 { refillWindows() } }
        ticker.start()
        refill.start()
        startTime = monotonicNanoseconds()
        runFor(plan.warmup)
        measuring = true
        let measureStart = monotonicNanoseconds()
        lastProgress = 0
        runFor(plan.duration)
        result.seconds = Double(monotonicNanoseconds() - measureStart) / 1e9
        measuring = false
        sending = false
        ticker.stop()
        refill.stop()
        drain()
        countTailLoss()
        return result
    }

    /// Runs the loop until every client has seen `plan.readyLine` (or the timeout passes).
    private func waitUntilReady() {
        guard plan.readyLine != nil else { return }
        let deadline = monotonicNanoseconds() + UInt64(plan.readyTimeout * 1e9)
        while readyCount < clients.count && monotonicNanoseconds() < deadline {
            runFor(0.05)
        }
        onProgress?("\(readyCount) of \(clients.count) clients ready")
    }

    private func runFor(_ seconds: Double) {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        let stopper = TimerWatcher(reactor: reactor, after: seconds, repeat: 0) { [unowned self] in reactor.stop() }
        // libev's cached time can lag (connecting thousands of clients takes a while), so the
        // timer may fire early: re-arm it with what is really left until the deadline passes.
        while case let now = monotonicNanoseconds(), now < deadline {
            stopper.schedule(after: Double(deadline - now) / 1e9)
            reactor.run()
        }
        stopper.stop()
    }

    /// How many clients receive each message.
    private var receiversPerMessage: Int { max(plan.sendersReceive ? plan.clients - 1 : plan.clients - plan.senders, 1) }

    /// After sending stops, waits until every sent message has been seen (or 3 s pass).
    private func drain() {
        let expectedPerMessage = receiversPerMessage
        let deadline = monotonicNanoseconds() + 3_000_000_000
        while monotonicNanoseconds() < deadline {
            let outstanding = (0..<plan.senders).contains { deliveredPerSender[$0] < Int(sentPerSender[$0]) * expectedPerMessage }
            if !outstanding { break }
            reactor.runOnce(wait: false)
            usleep(200)
        }
    }

    /// Messages that never arrived at all show up as sequence numbers still due.
    private func countTailLoss() {
        guard plan.senders > 0 else { return }
        let firstReceiver = plan.sendersReceive ? 0 : plan.senders
        for receiver in firstReceiver..<clients.count where clients[receiver].isOpen {
            for sender in 0..<plan.senders where sender != receiver {
                let due = expectedNext[receiver * plan.senders + sender]
                let sent = sentPerSender[sender]
                if sent > due { result.lost += Int(sent - due) }
            }
        }
    }

    // MARK: Sending

    private func tick() {
        if plan.rate > 0 {
            let elapsed = Double(monotonicNanoseconds() - startTime) / 1e9
            let due = UInt32(min(elapsed * plan.rate, Double(UInt32.max - 1)))
            for sender in 0..<plan.senders { send(from: sender, upTo: due) }
        }
        progress()
    }

    private func refillWindows() {
        guard sending else { return }
        let receivers = receiversPerMessage
        for sender in 0..<plan.senders {
            let inFlight = Int(sentPerSender[sender]) - deliveredPerSender[sender] / receivers
            if inFlight < plan.window {
                send(from: sender, upTo: sentPerSender[sender] + UInt32(plan.window - inFlight))
            }
        }
    }

    private func send(from sender: Int, upTo target: UInt32) {
        guard sending, sender < clients.count, clients[sender].isOpen else { return }
        var target = target
        if plan.count > 0 { target = min(target, UInt32(plan.count)) }
        let client = clients[sender]
        guard sentPerSender[sender] < target, client.outgoing.count < 1 << 20 else { return }
        let now = monotonicNanoseconds()
        while sentPerSender[sender] < target {
            if client.webSocket {
                // The line is built apart, then framed (its newline is the frame's end).
                scratch.removeAll()
                scratch.append(contentsOf: messagePrefix)
                Payload.encode(sender: sender, sequence: sentPerSender[sender], time: now, into: &scratch)
                scratch.append(contentsOf: messageSuffix.dropLast())
                scratch.withUnsafeBytes { client.queue(line: $0) }
            } else {
                client.outgoing.append(contentsOf: messagePrefix)
                Payload.encode(sender: sender, sequence: sentPerSender[sender], time: now, into: &client.outgoing)
                client.outgoing.append(contentsOf: messageSuffix)
            }
            sentPerSender[sender] += 1
            if measuring { result.sent += 1 }
        }
        flushClient(client)
    }

    private func flushClient(_ client: LoadClient) {
        guard client.isOpen else { return }
        do {
            if try client.sendPending() {
                client.writeWatcher?.stop()
            } else {
                client.writeWatcher?.start()
            }
        } catch {
            onProgress?("client \(client.index): \(error)")
            client.close()
        }
    }

    // MARK: Receiving

    private func readable(_ client: LoadClient) {
        // Plain TCP: one read per event. TLS: until OpenSSL holds nothing more.
        repeat {
            if !readOnce(client) { return }
        } while client.session != nil
    }

    /// One read and scan; false when nothing more is to be had now (or the client closed).
    private func readOnce(_ client: LoadClient) -> Bool {
        guard client.isOpen else { return false }
        let result: IOResult
        do {
            result = try client.read(into: readBuffer)
        } catch {
            onProgress?("client \(client.index): \(error)")
            client.close()
            return false
        }
        guard case .done(let count) = result else {
            if result == .endOfFile {
                onProgress?("client \(client.index): server closed the connection")
                client.close()
            }
            if client.session?.wants == .write { client.writeWatcher?.start() }
            return false
        }
        let now = monotonicNanoseconds()
        let webSocket = client.webSocket
        if client.partial.isEmpty {
            let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])
            let rest = webSocket ? scanFrames(bytes, receiver: client.index, now: now) : scan(bytes, receiver: client.index, now: now)
            if rest < count { client.partial.append(contentsOf: readBuffer[rest..<count]) }
        } else {
            client.partial.append(contentsOf: readBuffer[0..<count])
            let rest = client.partial.withUnsafeBytes { webSocket ? scanFrames($0, receiver: client.index, now: now) : scan($0, receiver: client.index, now: now) }
            client.partial.removeSubrange(0..<rest)
        }
        return true
    }

    /// Decodes the marker ending each complete line; returns where the unfinished tail starts.
    private func scan(_ bytes: UnsafeRawBufferPointer, receiver: Int, now: UInt64) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var start = 0
        while start < bytes.count {
            guard let found = memchr(base + start, 0x0A, bytes.count - start) else { break }
            let newline = base.distance(to: UnsafeRawPointer(found))
            var end = newline
            if end > start && bytes[end - 1] == 0x0D { end -= 1 }
            if end - start >= Payload.length, let marker = Payload.decode(bytes, end: end), marker.sender < plan.senders {
                record(marker, receiver: receiver, now: now)
            } else if plan.answersPing || plan.readyLine != nil {
                protocolLine(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), receiver: receiver)
            }
            start = newline + 1
        }
        return start
    }

    /// A line that is not a measured message: a PING to answer, or the ready line.
    private func protocolLine(_ line: UnsafeRawBufferPointer, receiver: Int) {
        if plan.answersPing && line.starts(with: "PING ".utf8) {
            let client = clients[receiver]
            client.outgoing.append(contentsOf: "PONG ".utf8)
            client.outgoing.append(contentsOf: line.dropFirst(5))
            client.outgoing.append(0x0A)
            flushClient(client)
        }
        if let readyLine = plan.readyLine, !ready[receiver], contains(line, readyLine) {
            ready[receiver] = true
            readyCount += 1
        }
    }

    private func contains(_ line: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard line.count >= needle.count, let first = needle.first else { return needle.isEmpty }
        var index = 0
        while index + needle.count <= line.count {
            if line[index] == first && line[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    /// `scan` for WebSocket: the marker ends each text frame's payload; returns where the
    /// unfinished frame starts.
    private func scanFrames(_ bytes: UnsafeRawBufferPointer, receiver: Int, now: UInt64) -> Int {
        var start = 0
        while let (opcode, payload) = WebSocketLink.nextFrame(bytes, at: start) {
            if opcode == 1, payload.count >= Payload.length, let marker = Payload.decode(bytes, end: payload.upperBound), marker.sender < plan.senders {
                record(marker, receiver: receiver, now: now)
            }
            start = payload.upperBound
        }
        return start
    }

    @inline(__always)
    private func record(_ marker: (sender: Int, sequence: UInt32, time: UInt64), receiver: Int, now: UInt64) {
        deliveredPerSender[marker.sender] += 1
        let key = receiver * plan.senders + marker.sender
        let due = expectedNext[key]
        if marker.sequence == due {
            expectedNext[key] = due + 1
        } else if marker.sequence > due {
            if measuring { result.lost += Int(marker.sequence - due) }
            expectedNext[key] = marker.sequence + 1
        } else if measuring {
            result.reordered += 1
        }
        if measuring {
            result.deliveries += 1
            progressDeliveries += 1
            _ = result.latency.record(now > marker.time ? now - marker.time : 0)
        }
    }

    private func progress() {
        let elapsed = Double(monotonicNanoseconds() - startTime) / 1e9
        guard elapsed - lastProgress >= 1 else { return }
        let rate = Double(progressDeliveries) / (elapsed - lastProgress)
        lastProgress = elapsed
        progressDeliveries = 0
        let p50 = Double(result.latency.valueAtPercentile(50)) / 1000
        onProgress?(String(format: "t=%4.1fs %@ deliveries/s %.2fM, lost %d, p50 %.0f µs", elapsed, measuring ? "measure" : "warmup ", rate / 1e6, result.lost, p50))
    }
}
