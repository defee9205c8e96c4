import ChatCore
import EventIO
import Logging

/// Everything `chatd serve` is told, written by the entries of `Setting.table` (defaults here,
/// then the environment, the command line and the `--config` file, in that order).
public struct DaemonSettings: Sendable {
    /// What the server itself runs with; `motd` and `operatorAccounts` are filled from their
    /// files by `loaded()`.
    public var server = ServerConfig()
    public var history = HistorySettings()
    public var logLevel: Logger.Level = .notice
    public var logFormat: LogFormat = .text
    public var motdFile: String?
    /// The `--config` file, re-read on every SIGHUP.
    public var configFile: String?
    /// The store (SQLite): room history, accounts and bans (`--db`).
    public var storePath = "chatd.db"
    /// Whether anything is written to the store. `--no-history` turns it off, and with it the
    /// persistence of accounts and bans: all three are then kept in memory only, until exit.
    public var usesStore = true
    public var passwordFile: String?
    public var operatorsFile: String?
    /// `HOST:PORT` of the metrics endpoint; nil: no endpoint.
    public var metrics: String?
    /// `redis://…` of the cluster's Redis (`--cluster`); nil: a single node.
    public var cluster: String?
    /// This node's name in the cluster (`--node-name`); nil: host name and port.
    public var nodeName: String?

    public init() {}

    /// Builds the settings from changes made by the table's entries, in order.
    public init(_ changes: [Setting.Change]) {
        self.init()
        for change in changes { change.apply(to: &self) }
    }

    /// The settings to run with: these (the command line over the environment over defaults)
    /// with the `--config` file's reloadable keys on top, and the MOTD and operators files read.
    /// The one path for start and every SIGHUP, so a key removed from the file returns to its
    /// command-line value, and a file that fails changes nothing.
    public func loaded() throws -> DaemonSettings {
        var settings = self
        if let configFile {
            try ConfigFile.apply(try ConfigFile.parse(try TextFile.read(configFile)), to: &settings)
        }
        settings.server.motd = try settings.motdFile.map(Self.readMOTD) ?? []
        if let operatorsFile {
            do {
                settings.server.operatorAccounts = try OperatorsFile.parse(try TextFile.read(operatorsFile))
            } catch {
                throw ConfigFile.Problem(line: 0, text: "operators file \(operatorsFile): \(error)")
            }
        }
        return settings
    }

    /// The rules between settings (each number was range-checked as it was parsed): the first
    /// one broken, or nil. `spell` writes a setting's name as its source does: `--name` on the
    /// command line, `name` in the `--config` file.
    public func conflict(spelling spell: (String) -> String = { $0 }) -> String? {
        if server.outputSoftLimit > server.outputHardLimit { return "\(spell("output-soft-limit")) must not exceed \(spell("output-hard-limit"))" }
        if let metrics, HostPort.parse(metrics) == nil { return "\(spell("metrics")) must be HOST:PORT, e.g. 127.0.0.1:9878 or [::1]:9878" }
        if let cluster, RedisURL(cluster) == nil { return "\(spell("cluster")) must be redis://[:password@]HOST:PORT[/db]" }
        if let nodeName, !RedisURL.isValidNodeName(nodeName) { return "\(spell("node-name")) must be 1-64 of A-Z a-z 0-9 . _ : -" }
        if !server.listensInPlaintext && server.tls.port == nil {
            return "\(spell("no-plain")) needs \(spell("tls-port")): the server would listen nowhere"
        }
        if server.tls.port == nil && (server.tls.certificatePath != nil || server.tls.keyPath != nil) {
            return "\(spell("tls-cert")) and \(spell("tls-key")) need \(spell("tls-port"))"
        }
        return nil
    }

    /// Reads a MOTD file: one notice per line (at most `motdLines`), control characters removed.
    static func readMOTD(_ path: String) throws -> [String] {
        try TextFile.lines(path).prefix(motdLines).map { Sanitizer.printable(Substring($0)) }
    }

    /// Most MOTD lines shown; the rest of a longer file is ignored.
    static let motdLines = 50
}

extension HistoryRetention {
    /// `maxAgeSeconds` in days, as `--history-max-days` states it.
    public var maxAgeDays: Double {
        get { maxAgeSeconds / 86_400 }
        set { maxAgeSeconds = newValue * 86_400 }
    }
}
