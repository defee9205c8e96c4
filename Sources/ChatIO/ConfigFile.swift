import ChatCore

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

    /// Keys that can change while running (the listening address cannot).
    public static let keys: Set<String> = [
        "log-level", "max-clients", "max-clients-per-address", "max-line-rate", "line-burst", "flood-seconds",
        "idle-timeout", "partial-line-timeout", "output-hard-limit", "output-soft-limit", "output-soft-seconds", "motd-file",
        "operators", "max-client-memory", "tls-cert", "tls-key", "tls-handshake-timeout", "tls-max-handshakes",
    ]

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
            guard keys.contains(key) else { throw Problem(line: index + 1, text: "unknown or not reloadable key \"\(key)\"") }
            pairs.append((key, value))
        }
        return pairs
    }

    /// Applies parsed pairs to `config`; the log level and MOTD path are returned for the
    /// caller, which owns logging and file reading.
    public static func apply(_ pairs: [(key: String, value: String)], to config: inout ServerConfig) throws -> (logLevel: String?, motdFile: String?) {
        var logLevel: String?
        var motdFile: String?
        for (key, value) in pairs {
            // The same ranges, and the same words, as the command line (see SettingRange).
            func number(_ range: Bounded) throws -> Double {
                guard let number = range.value(value) else { throw refusal(key, value, range) }
                return number
            }
            func whole(_ range: Bounded) throws -> Int {
                guard let number = range.intValue(value) else { throw refusal(key, value, range) }
                return number
            }
            switch key {
            case "log-level": logLevel = value
            case "motd-file": motdFile = value
            case "operators": config.operators = value.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
            case "max-clients": config.maxClients = try whole(SettingRange.maxClients)
            case "max-clients-per-address": config.maxClientsPerAddress = try whole(SettingRange.maxClientsPerAddress)
            case "max-line-rate": config.maxLineRate = try number(SettingRange.maxLineRate)
            case "line-burst": config.lineBurst = try number(SettingRange.lineBurst)
            case "flood-seconds": config.floodSeconds = try number(SettingRange.floodSeconds)
            case "idle-timeout": config.idleTimeout = try number(SettingRange.idleTimeout)
            case "partial-line-timeout": config.partialLineTimeout = try number(SettingRange.partialLineTimeout)
            case "output-hard-limit": config.outputHardLimit = try whole(SettingRange.outputHardLimit)
            case "output-soft-limit": config.outputSoftLimit = try whole(SettingRange.outputLimit)
            case "max-client-memory": config.maxClientMemory = try whole(SettingRange.maxClientMemory)
            case "tls-cert": config.tls.certificatePath = value
            case "tls-key": config.tls.keyPath = value
            case "tls-handshake-timeout": config.tls.handshakeTimeout = try number(SettingRange.tlsHandshakeTimeout)
            case "tls-max-handshakes": config.tls.maxHandshakes = try whole(SettingRange.tlsMaxHandshakes)
            default: config.outputSoftSeconds = try number(SettingRange.outputSoftSeconds)  // "output-soft-seconds", the last key
            }
        }
        if config.outputSoftLimit > config.outputHardLimit {
            throw Problem(line: 0, text: "output-soft-limit must not exceed output-hard-limit")
        }
        return (logLevel, motdFile)
    }

    /// Worded as ArgumentParser words a bad option value, so both read alike; at most
    /// `quotedValueLength` characters of the value are quoted into the log.
    private static func refusal(_ key: String, _ value: String, _ range: Bounded) -> Problem {
        let quoted = Sanitizer.printable(value.prefix(quotedValueLength)) + (value.count > quotedValueLength ? "…" : "")
        return Problem(line: 0, text: "the value '\(quoted)' is invalid for \(key): \(OutOfBounds(expected: range.expectation))")
    }

    /// Longest part of a refused value repeated in the log line.
    static let quotedValueLength = 40
}

extension StringProtocol {
    public var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
