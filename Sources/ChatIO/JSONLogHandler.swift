import ChatCore
import EventIO
import Glibc
import Logging

/// `--log-format json`: one JSON object per line on stderr, for journald, Loki, jq and the
/// like: `time` (RFC 3339, UTC, milliseconds), `level`, `message`, then the log statement's
/// structured fields (`client`, `reason`, `clients`, …) as top-level keys. Numbers stay
/// numbers. Each line goes out in one write(2), so lines from different threads never
/// interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let output: @Sendable ([UInt8]) -> Void

    /// Keys the handler writes itself; a field with one of these names is written as `field_<name>`.
    static let reservedKeys: Set<String> = ["time", "level", "message", "label"]

    public init(label: String, output: @escaping @Sendable ([UInt8]) -> Void = JSONLogHandler.writeToStandardError) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let explicit = event.metadata { fields.merge(explicit) { $1 } }
        if let error = event.error { fields["error"] = "\(error)" }
        var line = "{\"time\":\(Self.quote(Self.timestamp())),\"level\":\(Self.quote(event.level.rawValue)),\"message\":\(Self.quote(event.message.description))"
        if !label.isEmpty { line += ",\"label\":\(Self.quote(label))" }
        for key in fields.keys.sorted() {
            guard let value = fields[key] else { continue }
            let name = Self.reservedKeys.contains(key) ? "field_" + key : key
            line += ",\(Self.quote(name)):\(Self.json(value))"
        }
        line += "}\n"
        output(Array(line.utf8))
    }

    public static let writeToStandardError: @Sendable ([UInt8]) -> Void = { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    /// `2026-11-21T10:15:03.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let seconds = Timestamp.iso8601(Double(now.tv_sec))
        let milliseconds = now.tv_nsec / 1_000_000
        let padded = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return String(seconds.dropLast()) + "." + padded + "Z"
    }

    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text):
            return quote(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as any BinaryInteger: return "\(number)"
            case let number as Double where number.isFinite: return "\(number)"
            case let flag as Bool: return flag ? "true" : "false"
            default: return quote(convertible.description)
            }
        case .array(let values):
            return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            return "{" + dictionary.sorted { $0.key < $1.key }.map { "\(quote($0.key)):\(json($0.value))" }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// `--log-format text` (the default): swift-log's stream handler as before, with the structured
/// fields left out, since the message already says them in words.
public struct TextLogHandler: LogHandler {
    private var stream: StreamLogHandler

    public init(label: String) { stream = StreamLogHandler.standardError(label: label) }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { stream.metadata }
        set { stream.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { stream[metadataKey: key] }
        set { stream[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var plain = event
        plain.metadata = nil
        stream.log(event: plain)
    }
}
