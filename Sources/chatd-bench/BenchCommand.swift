import ArgumentParser
import EventIO
import Foundation

/// `chatd-bench`: a protocol-neutral load generator. Setup lines and the message template are
/// options, so the same scenarios drive chatd, an IRC server or Redis pub/sub.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatd-bench",
        abstract: "Load-test a line-based chat server and report deliveries/s, loss and latency.",
        discussion: """
        Scenarios: fanout (100 members, 10 senders at full speed), latency (2 clients paced at \
        1000 msg/s), room (1000 members, 1 sender at 20 msg/s), idle (19,900 connections, one \
        message to all of them), churn (connect, read the first line, close; repeat).
        Every message ends with a marker (sender, sequence, send time), so receivers count loss \
        and latency whatever the protocol wraps around it. Give --server-pid to report the \
        server's CPU time and memory.
        """
    )

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case fanout, latency, room, idle, churn, custom
    }

    @Option(help: "Scenario: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scenario: Scenario = .fanout
    @Option(help: "Server address.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: UInt16 = 7878
    @Option(help: "Another server port (a cluster node; repeatable): clients are spread over all the ports round-robin.")
    var extraPort: [UInt16] = []
    @Option(help: "Connections.") var clients: Int?
    @Option(help: "How many of the clients send.") var senders: Int?
    @Option(help: "Messages per second per sender (0: as fast as --window allows).") var rate: Double?
    @Option(help: "Messages per sender in flight when --rate is 0.") var window = 32
    @Option(help: "Messages per sender in total (0: unlimited).") var count: Int?
    @Option(help: "Seconds measured.") var duration: Double?
    @Option(help: "Seconds of load before measuring.") var warmup = 1.0
    @Option(help: "Seconds after setup before sending starts.") var settle: Double?
    @Option(help: "A line each client sends after connecting ({i}: client index); repeatable. Default: /nick b{i}, /join #bench.")
    var setup: [String] = []
    @Option(help: "A line senders send instead of the --setup lines (repeatable; \"\" for none).")
    var senderSetup: [String] = []
    @Flag(help: "Senders do not receive (Redis publishers cannot subscribe).")
    var sendersDoNotReceive = false
    @Option(help: "Message line; {payload} is replaced by the marker and must end the line.") var message = "{payload}"
    @Option(help: "Filler bytes before the marker.") var padding = 32
    @Option(help: "Spread clients over this many source addresses 127.N.0.2… (0: kernel's choice).") var sources: Int?
    @Option(help: "N in the source addresses 127.N.0.x, so runs in a row do not meet each other's TIME_WAIT ports.")
    var sourceNet = 0
    @Option(help: "Churn: connections in flight.") var concurrency = 32
    @Option(help: "Churn: a line to send after connecting, for servers that say nothing first (Redis: PING).")
    var churnSend: String?
    @Option(help: "Churn: a line each churning client says after the welcome, before it closes (real chat work).")
    var churnSay: String?
    @Option(help: "Churn: clients that stay connected reading everything (they hear the notices and lines).")
    var churnListeners = 0
    @Option(help: "Churn: lines one listener says first, so the room has history to replay.")
    var churnPrefill = 0
    @Flag(help: "Speak IRC: register (NICK b{i}, USER), JOIN #bench, wait for every client's 366, send PRIVMSG #bench, answer PINGs. --setup and --message still override.")
    var irc = false
    @Option(help: "Text each client must receive in one line before sending starts (IRC: \" 366 \").")
    var readyLine: String?
    @Flag(help: "Connect with TLS (certificates are not checked: the server's cost is what is measured). Churn then counts full handshakes.")
    var tls = false
    @Flag(help: "Connect every client over WebSocket (chatd's web door: GET /ws upgrade, masked text frames).")
    var websocket = false
    @Option(help: "The server's pid, to report its CPU time and RSS.") var serverPid: Int32?
    @Option(help: "Another process whose CPU time counts as the server's (cluster nodes, Redis; repeatable).")
    var alsoPid: [Int32] = []
    @Option(help: "Name for this run in the report.") var label = "server"

    func validate() throws {
        // The churn listeners are plaintext clients: over TLS they would only fail the handshake.
        if tls && churnListeners > 0 { throw ValidationError("--churn-listeners is plaintext only; it cannot be combined with --tls") }
        // The upgrade is written on the raw socket; WebSocket over TLS is measured by no scenario yet.
        if websocket && (tls || scenario == .churn) { throw ValidationError("--websocket works with plaintext load scenarios only (not --tls, not churn)") }
    }

    func run() throws {
        let limit = try DescriptorLimit.raiseToHard()
        let reactor = try Reactor.makePrivate()
        let stats = serverPid.map { ProcessStats(pid: $0, others: alsoPid) }
        let progress: (String) -> Void = { line in FileHandle.standardError.write(Data("[\(label)] \(line)\n".utf8)) }
        let tlsContext = tls ? try TLSClientContext(verification: .none) : nil
        if scenario == .churn {
            let seconds = duration ?? 10
            let engine = ChurnEngine(reactor: reactor, server: try SocketAddress(host: host, port: port), concurrency: concurrency, sources: sources ?? 8, sourceNet: sourceNet, greeting: churnSend,
                                     say: churnSay, listeners: churnListeners, prefill: churnPrefill,
                                     tls: tlsContext, host: host)
            engine.onProgress = progress
            try engine.openListeners()
            let cpuBefore = stats?.cpuSeconds()
            let done = engine.run(seconds: seconds)
            let cpu = cpuDelta(stats?.cpuSeconds(), cpuBefore)
            Report(label: label, scenario: scenario.rawValue, fields: [
                ("connections/s", Double(done) / seconds, "%.0f"),
                ("failures", Double(engine.failures), "%.0f"),
                ("server CPU s", cpu ?? .nan, "%.2f"),
                ("conn per server CPU-s", cpu.map { Double(done) / $0 } ?? .nan, "%.0f"),
            ]).print()
            return
        }
        var plan = LoadPlan()
        plan.host = host
        plan.port = port
        plan.window = window
        plan.extraPorts = extraPort
        plan.warmup = warmup
        plan.padding = padding
        if irc {
            plan.setup = ["NICK b{i}", "USER b{i} 0 * :chatd-bench", "JOIN #bench"]
            plan.message = "PRIVMSG #bench :{payload}"
            plan.readyLine = Array(" 366 ".utf8)
            plan.answersPing = true
        }
        if message != "{payload}" { plan.message = message }
        if let readyLine { plan.readyLine = Array(readyLine.utf8) }
        if !setup.isEmpty { plan.setup = setup.filter { !$0.isEmpty } }
        if !senderSetup.isEmpty { plan.senderSetup = senderSetup.filter { !$0.isEmpty } }
        plan.sendersReceive = !sendersDoNotReceive
        plan.tls = tlsContext
        plan.webSocket = websocket
        switch scenario {
        case .fanout: (plan.clients, plan.senders, plan.rate, plan.duration) = (100, 10, 0, 10)
        case .latency: (plan.clients, plan.senders, plan.rate, plan.duration) = (2, 2, 1000, 10)
        case .room: (plan.clients, plan.senders, plan.rate, plan.duration) = (1000, 1, 20, 10)
        case .idle: (plan.clients, plan.senders, plan.rate, plan.count, plan.duration, plan.warmup) = (19_900, 1, 1, 1, 3, 0)
        case .custom, .churn: break
        }
        plan.clients = clients ?? plan.clients
        plan.senders = min(senders ?? plan.senders, plan.clients)
        plan.rate = rate ?? plan.rate
        plan.count = count ?? plan.count
        plan.duration = duration ?? plan.duration
        plan.sources = sources ?? (plan.clients > 20_000 ? 4 : 0)
        plan.sourceNet = sourceNet
        plan.settle = settle ?? (plan.clients > 1000 ? 3 : 1)
        if plan.clients + 16 > limit { progress("warning: \(plan.clients) clients but only \(limit) descriptors") }

        let rssBefore = stats?.residentBytes()
        let engine = LoadEngine(plan: plan, reactor: reactor)
        engine.onProgress = progress
        try engine.connectAll()
        progress("\(plan.clients) connected")
        let rssConnected = stats?.residentBytes()
        let cpuBefore = stats?.cpuSeconds()
        var result = engine.run()
        let cpu = cpuDelta(stats?.cpuSeconds(), cpuBefore)
        let perSecond = Double(result.deliveries) / result.seconds
        var fields: [(String, Double, String)] = [
            ("clients", Double(result.connected), "%.0f"),
            ("senders", Double(plan.senders), "%.0f"),
            ("sent", Double(result.sent), "%.0f"),
            ("deliveries", Double(result.deliveries), "%.0f"),
            ("deliveries/s", perSecond, "%.0f"),
            ("lost", Double(result.lost), "%.0f"),
            ("reordered", Double(result.reordered), "%.0f"),
            ("p50 µs", Double(result.latency.valueAtPercentile(50)) / 1000, "%.1f"),
            ("p99 µs", Double(result.latency.valueAtPercentile(99)) / 1000, "%.1f"),
            ("p99.9 µs", Double(result.latency.valueAtPercentile(99.9)) / 1000, "%.1f"),
            ("max µs", Double(result.latency.max) / 1000, "%.1f"),
        ]
        if let cpu {
            fields.append(("server CPU s", cpu, "%.2f"))
            fields.append(("deliveries per server CPU-s", cpu > 0 ? Double(result.deliveries) / cpu : .nan, "%.0f"))
        }
        if let rssBefore, let rssConnected {
            fields.append(("server RSS MiB", Double(rssConnected) / 1_048_576, "%.1f"))
            fields.append(("RSS bytes per connection", Double(rssConnected - rssBefore) / Double(max(result.connected, 1)), "%.0f"))
        }
        result.latency.reset()
        Report(label: label, scenario: scenario.rawValue, fields: fields).print()
    }
}

private func cpuDelta(_ after: Double?, _ before: Double?) -> Double? {
    guard let after, let before else { return nil }
    return after - before
}

/// The final human table plus one JSON line (for scripts/bench to collect).
struct Report {
    let label: String
    let scenario: String
    let fields: [(String, Double, String)]

    func print() {
        Swift.print("\(label) — \(scenario)")
        for (name, value, format) in fields {
            Swift.print("  \(name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(String(format: format, value))")
        }
        var json = "{\"label\":\"\(label)\",\"scenario\":\"\(scenario)\""
        for (name, value, _) in fields {
            json += ",\"\(name)\":" + (value.isFinite ? String(format: "%.3f", value) : "null")
        }
        Swift.print("JSON " + json + "}")
    }
}
