import Foundation

/// One scrape of chatd's metrics endpoint, as series → value (`chatd_rooms`,
/// `chatd_disconnects_total{reason="quit"}`), plus the raw exposition for promtool.
public struct MetricsScrape {
    public let text: String
    public let samples: [String: Double]

    public init(text: String) {
        self.text = text
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        self.samples = samples
    }

    public subscript(series: String) -> Double? { samples[series] }
}

extension Daemon {
    /// The metrics port from the `metrics served at http://HOST:PORT/metrics` log line.
    public var metricsPort: UInt16? {
        guard let found = log.range(of: #"metrics served at http://[^ ]+:(\d+)/metrics"#, options: .regularExpression) else { return nil }
        let text = log[found].dropLast("/metrics".count)
        return text.lastIndex(of: ":").flatMap { UInt16(text[text.index(after: $0)...]) }
    }

    /// Scrapes `/metrics` once.
    public func scrape() throws -> MetricsScrape {
        guard let port = metricsPort else { throw TestError("chatd did not log its metrics address: \(log)") }
        let answer = try HTTPProbe.get(port: port, "/metrics")
        guard answer.status == 200 else { throw TestError("scrape answered \(answer.status): \(answer.head)") }
        return MetricsScrape(text: answer.body)
    }
}
