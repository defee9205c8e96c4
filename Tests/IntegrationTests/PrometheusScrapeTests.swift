import ChatTestSupport
import Foundation
import Glibc
import Testing

/// A real Prometheus server (Debian's `prometheus`, installed by scripts/test) scrapes chatd on
/// loopback every second during a small load, and its query API returns chatd's series with
/// the values the load implies.
@Suite struct PrometheusScrapeTests {
    @Test func prometheusScrapesTheDeliveriesTheLoadMade() throws {
        let daemon = try Daemon(["--metrics", "127.0.0.1:0", "--max-line-rate", "0"])
        let metricsPort = try #require(daemon.metricsPort)
        let prometheus = try PrometheusServer(scraping: metricsPort)
        defer { prometheus.stop() }

        let sender = try daemon.client(named: "sender")
        let receivers = try (0..<4).map { try daemon.client(named: "r\($0)") }
        for receiver in receivers { receiver.send("/ping settle") }
        for receiver in receivers { _ = receiver.waitFor { $0 == "OK pong settle" } }
        let quiet = try #require(daemon.scrape()["chatd_deliveries_total"])
        #expect(prometheus.waitFor("chatd_deliveries_total", toBe: quiet), "Prometheus saw the quiet value: \(prometheus.log)")

        let lines = 200
        for index in 0..<lines { sender.send("load \(index)") }
        for receiver in receivers { #expect(receiver.waitFor { $0 == "#lobby <sender> load \(lines - 1)" } != nil) }
        let expected = quiet + Double(lines * receivers.count)
        #expect(prometheus.waitFor("chatd_deliveries_total", toBe: expected), "deliveries = sent × recipients")
        #expect(prometheus.waitFor(#"up{job="chatd"}"#, toBe: 1))
        #expect(prometheus.waitFor(#"chatd_clients_connected{protocol="chatd"}"#, toBe: 5))
        #expect(prometheus.waitFor("chatd_messages_relayed_total", toBe: Double(lines)))
        let iterations = try #require(prometheus.query("chatd_loop_iteration_duration_seconds_count"))
        #expect(iterations > 0, "the loop-lag histogram is scraped")
        #expect((prometheus.query("process_resident_memory_bytes") ?? 0) > 0)
    }
}

/// The README's example alert rules are valid Prometheus rules and name only chatd's metrics.
@Suite struct AlertRuleTests {
    @Test func theReadmeAlertRulesPassPromtool() throws {
        let readme = try String(contentsOfFile: SystemdTests.repository + "/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "```yaml\ngroups:"))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        let rules = String(readme[readme.index(start.lowerBound, offsetBy: 8)..<end.lowerBound])
        for name in ["chatd_loop_iteration_duration_seconds_bucket", "chatd_disconnects_total{reason=\"output_limit\"}", "chatd_history_write_failures_total"] {
            #expect(rules.contains(name), "an alert on \(name)")
        }
        let directory = NSTemporaryDirectory() + "chatd-rules-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try rules.write(toFile: directory + "/rules.yml", atomically: true, encoding: .utf8)
        let promtool = try Spawned("/usr/bin/promtool", ["check", "rules", directory + "/rules.yml"])
        #expect(promtool.waitForExit(timeout: 30) == 0, "\(promtool.output)\(promtool.errorOutput)")
        #expect(promtool.output.contains("SUCCESS: 5 rules found"))
    }
}

/// Prometheus on a free loopback port with a generated config that scrapes one target every
/// second; stopped by PID and its directory removed by `stop()`.
final class PrometheusServer {
    let directory: String
    let port: UInt16
    let process: Spawned
    private var stopped = false

    init(scraping target: UInt16) throws {
        directory = NSTemporaryDirectory() + "chatd-prometheus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: chatd
                static_configs:
                  - targets: ['127.0.0.1:\(target)']

            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        // A free port: bind port 0, read it, release it for Prometheus (a small race, loopback only).
        let probe = try TestSocket.listen()
        port = probe.port
        close(probe.fd)
        process = try Spawned("/usr/bin/prometheus", [
            "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn", "--storage.tsdb.retention.time=1h",
        ])
        let deadline = now() + 30
        while now() < deadline {
            if let ready = try? HTTPProbe.get(port: port, "/-/ready", timeout: 2), ready.status == 200 { return }
            if !process.process.isRunning { break }
            usleep(100_000)
        }
        stop()
        throw TestError("prometheus did not become ready: \(process.errorOutput)")
    }

    deinit { stop() }

    var log: String { process.errorOutput }

    /// The latest value of an instant query with one result, or nil.
    func query(_ expression: String) -> Double? {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "_-.")
        guard let encoded = expression.addingPercentEncoding(withAllowedCharacters: allowed),
              let answer = try? HTTPProbe.get(port: port, "/api/v1/query?query=\(encoded)", timeout: 5), answer.status == 200,
              let object = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
              let data = object["data"] as? [String: Any], let results = data["result"] as? [[String: Any]],
              results.count == 1, let value = results[0]["value"] as? [Any], value.count == 2, let text = value[1] as? String
        else { return nil }
        return Double(text)
    }

    /// Polls `expression` until it equals `expected` (a scrape happens every second).
    func waitFor(_ expression: String, toBe expected: Double, timeout: Double = 30) -> Bool {
        let deadline = now() + timeout
        while now() < deadline {
            if query(expression) == expected { return true }
            usleep(250_000)
        }
        return false
    }

    func stop() {
        if stopped { return }
        stopped = true
        kill(process.pid, SIGTERM)
        if process.waitForExit(timeout: 10) == nil { kill(process.pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
