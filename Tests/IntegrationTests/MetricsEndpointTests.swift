import ChatTestSupport
import Foundation
import Glibc
import Testing

/// The metrics endpoint against the real binary: the numbers follow what clients did, promtool
/// accepts the exposition, and junk, a slow-loris request, a crowd of idle connections and 1,000
/// scrapes neither stop it nor hurt chat.
@Suite struct MetricsEndpointTests {
    static let metrics = ["--metrics", "127.0.0.1:0", "--max-line-rate", "0"]

    @Test func theCountersFollowWhatClientsDid() throws {
        let daemon = try Daemon(Self.metrics)
        let sender = try daemon.client(named: "sender")
        let receivers = try (0..<3).map { try daemon.client(named: "r\($0)") }
        for receiver in receivers { receiver.send("/ping settle") }
        for receiver in receivers { _ = receiver.waitFor { $0 == "OK pong settle" } }
        let before = try daemon.scrape()
        let lines = 25
        for index in 0..<lines { sender.send("line \(index)") }
        for receiver in receivers {
            #expect(receiver.waitFor { $0 == "#lobby <sender> line \(lines - 1)" } != nil)
        }
        let after = try daemon.scrape()
        func delta(_ series: String) -> Double { (after[series] ?? .nan) - (before[series] ?? .nan) }
        #expect(delta("chatd_deliveries_total") == Double(lines * receivers.count), "sent × recipients")
        #expect(delta("chatd_lines_received_total") == Double(lines))
        #expect(delta("chatd_messages_relayed_total") == Double(lines))
        #expect(delta("chatd_received_bytes_total") == Double((0..<lines).map { "line \($0)\n".utf8.count }.reduce(0, +)))
        #expect(delta("chatd_sent_bytes_total") == Double(receivers.count * (0..<lines).map { "#lobby <sender> line \($0)\n".utf8.count }.reduce(0, +)))
        #expect(after[#"chatd_clients_connected{protocol="chatd",transport="tcp"}"#] == 4)
        #expect(after["chatd_connections_accepted_total"] == 4)
        #expect(after["chatd_rooms"] == 1)
        #expect((after["chatd_loop_iteration_duration_seconds_count"] ?? 0) > 0, "the loop clock runs")
        #expect((after["process_resident_memory_bytes"] ?? 0) > 0)

        sender.sendRaw(Array(repeating: UInt8(ascii: "x"), count: 5000) + [0x0A])
        sender.sendRaw([0xC3, 0x28, 0x0A])
        #expect(sender.waitFor { $0.hasPrefix("ERROR INVALID_UTF8") } != nil)
        receivers[0].send("/quit")
        #expect(receivers[0].waitForClose())
        receivers[1].reset()
        let seed = try TestClient(port: daemon.port)
        seed.send("JOIN:carol")
        let browser = try TestClient(port: daemon.port)
        browser.sendRaw(Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))  // a whole request: the page, then the close
        #expect(browser.waitForClose())
        seed.send("SAY::hi")
        #expect(receivers[2].waitFor { $0 == "#lobby <carol> hi" } != nil)
        let later = try daemon.scrape()
        #expect(later[#"chatd_lines_rejected_total{reason="too_long"}"#] == 1)
        #expect(later[#"chatd_lines_rejected_total{reason="invalid_utf8"}"#] == 1)
        #expect(later[#"chatd_disconnects_total{reason="quit"}"#] == 1)
        #expect(later[#"chatd_disconnects_total{reason="http"}"#] == 1)
        #expect(Self.eventually { (try? daemon.scrape())?[#"chatd_disconnects_total{reason="reset"}"#] == 1 }, "the reset client is counted once its socket fails")
        #expect(later[#"chatd_clients_connected{protocol="tcp-chat",transport="tcp"}"#] == 1)
    }

    @Test func clientsRefusedAndCutAreCountedByReason() throws {
        let daemon = try Daemon(Self.metrics + ["--max-clients", "2", "--output-hard-limit", "65536", "--output-soft-limit", "32768"])
        let slow = try TestClient(port: daemon.port)  // never reads
        let talker = try daemon.client(named: "talker")
        let refused = try TestClient(port: daemon.port)
        #expect(refused.readLine()?.hasPrefix("ERROR SERVER_FULL") == true)
        let payload = String(repeating: "z", count: 1000)
        for index in 0..<3000 { talker.send("\(index) \(payload)") }
        #expect(daemon.waitForLog("slow consumer"), "the reader that never reads is cut")
        #expect(slow.waitForClose())
        let scrape = try daemon.scrape()
        #expect(scrape[#"chatd_connections_refused_total{reason="server_full"}"#] == 1)
        #expect(scrape[#"chatd_disconnects_total{reason="output_limit"}"#] == 1)
        #expect(scrape["chatd_clients_limit"] == 2)
    }

    @Test func promtoolAcceptsTheExposition() throws {
        let daemon = try Daemon(Self.metrics)
        let client = try daemon.client(named: "alice")
        client.send("hello")
        client.send("/ping")
        _ = client.waitFor { $0.hasPrefix("OK pong") }
        let scrape = try daemon.scrape()
        let directory = NSTemporaryDirectory() + "chatd-promtool-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/metrics.txt"
        try scrape.text.write(toFile: file, atomically: true, encoding: .utf8)
        let promtool = try Spawned("/bin/sh", ["-c", "exec /usr/bin/promtool check metrics < \"$1\"", "sh", file])
        let status = promtool.waitForExit(timeout: 30)
        #expect(status == 0, "promtool: \(promtool.output) \(promtool.errorOutput)")
        #expect(promtool.output.isEmpty && promtool.errorOutput.isEmpty, "no lint findings: \(promtool.output) \(promtool.errorOutput)")
    }

    @Test func onlyGetMetricsIsServedAndTheEnvironmentCanTurnItOn() throws {
        let daemon = try Daemon([], environment: ["CHATD_METRICS": "127.0.0.1:0"])
        let port = try #require(daemon.metricsPort)
        #expect(try HTTPProbe.get(port: port, "/").status == 404)
        #expect(try HTTPProbe.get(port: port, "/metrics/x").status == 404)
        let post = try HTTPProbe.exchange(port: port, Array("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".utf8))
        #expect(post.status == 405 && post.head.contains("Allow: GET, HEAD"))
        let head = try HTTPProbe.exchange(port: port, Array("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(head.status == 200 && head.body.isEmpty && head.head.contains("version=0.0.4"))
        let get = try HTTPProbe.exchange(port: port, Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(get.status == 200 && get.head.contains("Connection: close") && get.body.contains("chatd_build_info{version="))
    }

    @Test func junkSlowLorisIdleCrowdsAndAThousandScrapesDoNotHurtIt() throws {
        let daemon = try Daemon(Self.metrics)
        let port = try #require(daemon.metricsPort)
        let alice = try daemon.client(named: "alice")
        let bob = try daemon.client(named: "bob")
        let baseline = try daemon.scrape()

        // Junk: binary with a newline is a bad request; 64 KiB with none is cut at the head limit.
        var junk = [UInt8](repeating: 0, count: 4096)
        for index in junk.indices { junk[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 7) }
        #expect(try HTTPProbe.exchange(port: port, junk + [0x0A]).status == 400)
        #expect(try HTTPProbe.exchange(port: port, [UInt8](repeating: 0x41, count: 65536)).status == 431)

        // A slow-loris request: one byte at a time, never finished. It is closed after the
        // endpoint's time limit while scrapes and chat go on.
        let loris = try TestClient(port: port)
        loris.sendRaw(Array("GET /metrics HTTP/1.1\r\n".utf8))
        let lorisStart = now()
        var lorisClosed = false
        while now() - lorisStart < 15 {
            loris.sendRaw(Array("X".utf8))
            #expect(try HTTPProbe.get(port: port, "/metrics").status == 200)
            alice.send("still here \(Int(now() - lorisStart))")
            #expect(bob.waitFor { $0.hasPrefix("#lobby <alice> still here") } != nil)
            if loris.waitForClose(timeout: 0.5) {
                lorisClosed = true
                break
            }
        }
        #expect(lorisClosed, "the slow-loris connection was closed")

        // More idle connections than the endpoint holds: the oldest make way, scrapes still work.
        let idle = try (0..<40).map { _ in try TestClient(port: port) }
        #expect(try HTTPProbe.get(port: port, "/metrics").status == 200)
        idle.forEach { $0.close() }

        for index in 0..<1000 {
            let answer = try HTTPProbe.get(port: port, "/metrics")
            if answer.status != 200 || !answer.body.contains("chatd_build_info") {
                Issue.record("scrape \(index) answered \(answer.status)")
                break
            }
        }
        alice.send("after the scrapes")
        #expect(bob.waitFor { $0 == "#lobby <alice> after the scrapes" } != nil, "chat went on")
        let after = try daemon.scrape()
        #expect((after[#"chatd_metrics_requests_total{code="200"}"#] ?? 0) >= 1000)
        #expect(after[#"chatd_metrics_requests_total{code="400"}"#] == 1)
        #expect(after[#"chatd_metrics_requests_total{code="431"}"#] == 1)
        #expect(Self.eventually { ((try? daemon.scrape())?["process_open_fds"] ?? .infinity) <= (baseline["process_open_fds"] ?? 0) + 1 },
                "no descriptor is left behind")
    }

    /// Polls `condition` for up to `timeout` seconds.
    static func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = now() + timeout
        while now() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }
}
