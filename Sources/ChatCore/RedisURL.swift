/// Where a cluster's Redis is: `redis://[:password@]HOST:PORT[/db]` (`--cluster`). The port
/// defaults to 6379 and the database to 0; an IPv6 host goes in brackets.
public struct RedisURL: Equatable, Sendable {
    public var host: String
    public var port: Int
    public var password: String?
    public var database: Int

    /// Parses the URL; nil (with nothing echoed, it may hold a password) when it is not one.
    public init?(_ text: String) {
        guard text.hasPrefix("redis://") else { return nil }
        var rest = Substring(text.dropFirst("redis://".count))
        password = nil
        if let at = rest.lastIndex(of: "@") {
            var credentials = rest[..<at]
            if credentials.hasPrefix(":") { credentials = credentials.dropFirst() }
            else if let colon = credentials.firstIndex(of: ":") { credentials = credentials[credentials.index(after: colon)...] }  // user:password: the user is ignored
            guard !credentials.isEmpty else { return nil }
            password = String(credentials)
            rest = rest[rest.index(after: at)...]
        }
        database = 0
        if let slash = rest.firstIndex(of: "/") {
            let number = rest[rest.index(after: slash)...]
            if !number.isEmpty {
                guard let value = Int(number), (0...1_000).contains(value) else { return nil }
                database = value
            }
            rest = rest[..<slash]
        }
        port = 6379
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()), (1...65_535).contains(value) else { return nil }
                port = value
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let value = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(value) else { return nil }
            port = value
        } else {
            host = String(rest)
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" || $0 == "@" }) else { return nil }
    }

    /// Shown in logs: never the password.
    public var shown: String { "redis://\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" }

    /// Whether `name` may name a node: 1–64 of `A–Z a–z 0–9 . _ : -` (it is part of Redis keys
    /// and channel names, and travels inside tab-separated messages).
    public static func isValidNodeName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x3A) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    /// What a new connection sends before anything else: AUTH with the password, SELECT the
    /// database; empty for an open server on database 0. Every connection chatd makes to Redis
    /// (blocking or asynchronous) starts with these.
    public var setupCommands: [[String]] {
        var commands: [[String]] = []
        if let password { commands.append(["AUTH", password]) }
        if database != 0 { commands.append(["SELECT", String(database)]) }
        return commands
    }
}
