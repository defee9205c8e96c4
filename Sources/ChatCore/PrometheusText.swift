/// Builds the Prometheus text exposition format 0.0.4: per family a `# HELP` and a `# TYPE`
/// line, then its samples, `name{label="value"} number`. Pure text, so the I/O layer only
/// gathers numbers and the format is unit-tested here.
///
/// chatd writes the format itself rather than through swift-metrics and swift-prometheus:
/// its counters are plain integers in the hub and the server, read when Prometheus scrapes,
/// so nothing on the hot path calls a metrics API (BENCHMARKS.md, "Metrics on versus off",
/// has the numbers behind that choice).
public struct PrometheusText {
    public enum Kind: String {
        case counter, gauge, histogram
    }

    public private(set) var text = ""

    /// The content type a scrape is answered with.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public init() {}

    /// Starts a family. `name` must be a valid metric name; counters end in `_total`.
    public mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        precondition(Self.isValidName(name), "invalid metric name \(name)")
        precondition(kind != .counter || name.hasSuffix("_total"), "counter \(name) must end in _total")
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// One sample line of the current family.
    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        sample(name, Array(labels), Self.format(value))
    }

    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: UInt64) {
        sample(name, Array(labels), String(value))
    }

    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: Int) {
        sample(name, Array(labels), String(value))
    }

    /// A family with one unlabelled sample.
    public mutating func counter(_ name: String, _ help: String, _ value: UInt64) {
        family(name, .counter, help)
        sample(name, [:], value)
    }

    public mutating func gauge(_ name: String, _ help: String, _ value: Int) {
        family(name, .gauge, help)
        sample(name, [:], value)
    }

    public mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        family(name, .gauge, help)
        sample(name, [:], value)
    }

    /// A histogram family: cumulative `_bucket{le=…}` lines, `_sum` and `_count`.
    public mutating func histogram(_ name: String, _ help: String, _ histogram: Histogram) {
        family(name, .histogram, help)
        for (bound, count) in zip(histogram.bounds.map(Self.format) + ["+Inf"], histogram.cumulativeCounts) {
            sample(name + "_bucket", [("le", bound)], String(count))
        }
        sample(name + "_sum", [], Self.format(histogram.sum))
        sample(name + "_count", [], String(histogram.count))
    }

    private mutating func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + value + "\n"
    }

    /// Go's ParseFloat reads Swift's shortest round-trip form (`0.001`, `1e-05`); the
    /// non-finite values are spelled the way the format wants.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static func isValidName(_ name: String) -> Bool {
        func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F || byte == 0x3A }
        guard let first = name.utf8.first, isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// Label values escape backslash, double quote and newline.
    static func escapeLabel(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Help text escapes backslash and newline.
    static func escapeHelp(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
