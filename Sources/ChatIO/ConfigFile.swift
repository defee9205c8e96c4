import ChatCore
import EventIO

/// The reloadable settings file (`--config FILE`): `key = value` lines, `#` comments. Keys are
/// the long option names (`max-line-rate = 5`). Its values override the command line at start
/// and again on every SIGHUP, so an operator changes limits without dropping anyone.
public enum ConfigFile {
    /// A line the file cannot mean anything by; nothing from the file is applied then.
    public struct Problem: Error, CustomStringConvertible {
        public let line: Int
        public let text: String
        public init(line: Int, text: String) {
            self.line = line
            self.text = text
        }
        /// Line 0 means the whole file (a value or a combination), not one line of it.
        public var description: String { line > 0 ? "line \(line): \(text)" : text }
    }

    /// Keys that can change while running: the reloadable entries of `Setting.table`.
    public static var keys: Set<String> { Set(Setting.table.filter(\.reloadable).map(\.name)) }

    private static func unknownKey(_ key: String, line: Int) -> Problem {
        Problem(line: line, text: "unknown or not reloadable key \"\(key)\"")
    }

    /// Parses the file's text into key/value pairs, in order.
    public static func parse(_ text: String) throws -> [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        // Split on isNewline: Swift reads "\r\n" as one Character, which "\n" would not match.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { throw Problem(line: index + 1, text: "expected key = value") }
            let key = trimmed[..<equals].trimmingSpaces
            let value = trimmed[trimmed.index(after: equals)...].trimmingSpaces
            guard Setting.named(key)?.reloadable == true else { throw unknownKey(key, line: index + 1) }
            pairs.append((key, value))
        }
        return pairs
    }

    /// Applies parsed pairs to `settings` through the table's own parsers (the same ranges,
    /// and the same words, as the command line), then the rules between settings. Nothing is
    /// applied when anything is refused.
    public static func apply(_ pairs: [(key: String, value: String)], to settings: inout DaemonSettings) throws {
        var updated = settings
        for (key, value) in pairs {
            guard let setting = Setting.named(key), setting.reloadable, case .option(let parse) = setting.form else {
                throw unknownKey(key, line: 0)
            }
            do {
                try parse(value).apply(to: &updated)
            } catch {
                throw refusal(key, value, error)
            }
        }
        if let conflict = updated.conflict() { throw Problem(line: 0, text: conflict) }
        settings = updated
    }

    /// Worded as ArgumentParser words a bad option value, so both read alike; at most
    /// `quotedValueLength` characters of the value are quoted into the log.
    private static func refusal(_ key: String, _ value: String, _ error: any Error) -> Problem {
        let quoted = Sanitizer.printable(value.prefix(quotedValueLength)) + (value.count > quotedValueLength ? "…" : "")
        return Problem(line: 0, text: "the value '\(quoted)' is invalid for \(key): \(error)")
    }

    /// Longest part of a refused value repeated in the log line.
    static let quotedValueLength = 40
}
