import ArgumentParser
import ChatCore
import ChatIO
import ChatStore
import Glibc
import Logging

/// `chatd [serve]`: the daemon. A plain ParsableCommand because `ev_run` blocks this thread.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the chat daemon (the default).")

    @Option(help: "Address to listen on: an IPv4 or IPv6 literal, or localhost.")
    var host = "127.0.0.1"

    @Option(help: .setting("TCP port to listen on (0 picks a free one; the log says which).", SettingRange.port, default: ServerConfig().port),
            transform: { UInt16(try SettingRange.port.parseInt($0)) })  // at most 65535: fits
    var port = ServerConfig().port

    @Flag(help: "Do not listen for plaintext clients: a TLS-only server (needs --tls-port).")
    var noPlain = false

    @Option(help: .setting("TCP port for TLS clients (0 picks a free one); needs --tls-cert and --tls-key. No TLS port unless given.", SettingRange.port),
            transform: { UInt16(try SettingRange.port.parseInt($0)) })  // at most 65535: fits
    var tlsPort: UInt16?

    @Option(help: "PEM certificate chain for the TLS port, leaf first (Let's Encrypt: /etc/letsencrypt/live/NAME/fullchain.pem); re-read on SIGHUP.")
    var tlsCert: String?

    @Option(help: "PEM private key of that certificate (Let's Encrypt: /etc/letsencrypt/live/NAME/privkey.pem); re-read on SIGHUP.")
    var tlsKey: String?

    @Option(help: .setting("Seconds a TLS client may take to finish its handshake.", SettingRange.tlsHandshakeTimeout, default: TLSSettings().handshakeTimeout),
            transform: SettingRange.tlsHandshakeTimeout.parse)
    var tlsHandshakeTimeout = TLSSettings().handshakeTimeout

    @Option(help: .setting("TLS handshakes in flight at once; more TLS clients wait in the accept queue.", SettingRange.tlsMaxHandshakes, default: TLSSettings().maxHandshakes),
            transform: SettingRange.tlsMaxHandshakes.parseInt)
    var tlsMaxHandshakes = TLSSettings().maxHandshakes

    @Option(help: "Log level: trace, debug, info (every connect and disconnect), notice, warning, error or critical.")
    var logLevel: Logger.Level = .notice

    @Option(help: .setting("Longest line a client may send, in bytes; longer lines are dropped with an error.", SettingRange.maxLineBytes, default: ChatLimits().maxLineBytes),
            transform: SettingRange.maxLineBytes.parseInt)
    var maxLineBytes = ChatLimits().maxLineBytes

    @Option(help: .setting("Most clients at once (default: the descriptor limit minus a small reserve).", SettingRange.maxClients),
            transform: SettingRange.maxClients.parseInt)
    var maxClients: Int?

    @Option(help: .setting("Rooms with more members than this get no join/part/rename/quit notices.", SettingRange.noticeRoomLimit, default: ChatLimits().noticeRoomLimit),
            transform: SettingRange.noticeRoomLimit.parseInt)
    var noticeRoomLimit = ChatLimits().noticeRoomLimit

    @Option(help: .setting("Unsent output per client (bytes) that closes it at once.", SettingRange.outputHardLimit, default: ServerConfig().outputHardLimit),
            transform: SettingRange.outputHardLimit.parseInt)
    var outputHardLimit = ServerConfig().outputHardLimit

    @Option(help: .setting("Unsent output per client (bytes) that closes it if it persists for --output-soft-seconds.", SettingRange.outputLimit, default: ServerConfig().outputSoftLimit),
            transform: SettingRange.outputLimit.parseInt)
    var outputSoftLimit = ServerConfig().outputSoftLimit

    @Option(help: .setting("How long a client may stay over --output-soft-limit.", SettingRange.outputSoftSeconds, default: ServerConfig().outputSoftSeconds),
            transform: SettingRange.outputSoftSeconds.parse)
    var outputSoftSeconds = ServerConfig().outputSoftSeconds

    @Option(help: .setting("Lines per second a client may send (0: unlimited); excess lines wait, unread.", SettingRange.maxLineRate, default: ServerConfig().maxLineRate),
            transform: SettingRange.maxLineRate.parse)
    var maxLineRate = ServerConfig().maxLineRate

    @Option(help: .setting("Lines a client may send in a burst above --max-line-rate.", SettingRange.lineBurst, default: ServerConfig().lineBurst),
            transform: SettingRange.lineBurst.parse)
    var lineBurst = ServerConfig().lineBurst

    @Option(help: .setting("Seconds a client may stay held back by flood control before it is disconnected.", SettingRange.floodSeconds, default: ServerConfig().floodSeconds),
            transform: SettingRange.floodSeconds.parse)
    var floodSeconds = ServerConfig().floodSeconds

    @Option(help: .setting("Seconds without input after which a client is disconnected (0: never).", SettingRange.idleTimeout, default: ServerConfig().idleTimeout),
            transform: SettingRange.idleTimeout.parse)
    var idleTimeout = ServerConfig().idleTimeout

    @Option(help: .setting("Seconds a client may hold an unfinished line (0: forever).", SettingRange.partialLineTimeout, default: ServerConfig().partialLineTimeout),
            transform: SettingRange.partialLineTimeout.parse)
    var partialLineTimeout = ServerConfig().partialLineTimeout

    @Option(help: .setting("Most clients from one IP address (0: no limit).", SettingRange.maxClientsPerAddress, default: ServerConfig().maxClientsPerAddress),
            transform: SettingRange.maxClientsPerAddress.parseInt)
    var maxClientsPerAddress = ServerConfig().maxClientsPerAddress

    @Option(help: .setting("Bytes all clients' output backlogs and held input may use together; over it the clients using the most are disconnected (default: a quarter of physical memory).", SettingRange.maxClientMemory),
            transform: SettingRange.maxClientMemory.parseInt)
    var maxClientMemory = ServerConfig().maxClientMemory

    @Option(help: .setting("Most rooms at once; a join that would create one more is refused.", SettingRange.maxRooms, default: ChatLimits().maxRooms),
            transform: SettingRange.maxRooms.parseInt)
    var maxRooms = ChatLimits().maxRooms

    @Option(help: .setting("Bytes of history lines kept in memory across all rooms; emptied rooms' lines go first and are read back from the database when the room returns.", SettingRange.historyMemory, default: HistorySettings().memoryBudget),
            transform: SettingRange.historyMemory.parseInt)
    var historyMemory = HistorySettings().memoryBudget

    @Option(help: .setting("Bytes the history database may hold (0: no cap); the oldest lines of any room are deleted past it.", SettingRange.historyMaxBytes, default: HistoryRetention().maxDatabaseBytes),
            transform: SettingRange.historyMaxBytes.parseInt)
    var historyMaxBytes = HistoryRetention().maxDatabaseBytes

    @Option(help: "A file whose lines are shown to every new client; re-read on SIGHUP.")
    var motdFile: String?

    @Option(help: "A file of `key = value` settings (log-level and the limits above, by their option names) that override these options at start and are re-read on SIGHUP.")
    var config: String?

    @Option(help: "The history database (SQLite, created if missing). Relative paths are from the working directory, like Redis's dump.rdb.")
    var db = "chatd.db"

    @Flag(help: "Keep no history: nothing is stored, replayed or written to disk.")
    var noHistory = false

    @Option(help: .setting("Lines of a room's history replayed on /join (0: none).", SettingRange.historyReplay, default: HistorySettings().replayLines),
            transform: SettingRange.historyReplay.parseInt)
    var historyReplay = HistorySettings().replayLines

    @Option(help: .setting("Lines kept per room in the database (0: no cap); older ones are deleted in the background.", SettingRange.historyMaxLines, default: HistoryRetention().maxLinesPerRoom),
            transform: SettingRange.historyMaxLines.parseInt)
    var historyMaxLines = HistoryRetention().maxLinesPerRoom

    @Option(help: .setting("Days a line is kept in the database (0: forever).", SettingRange.historyMaxDays, default: HistoryRetention().maxAgeSeconds / 86_400),
            transform: SettingRange.historyMaxDays.parse)
    var historyMaxDays = HistoryRetention().maxAgeSeconds / 86_400

    @Option(help: .setting("Seconds a received line may wait before it is committed: what a kill -9 can lose.", SettingRange.commitWindow, default: HistorySettings().commitWindow),
            transform: SettingRange.commitWindow.parse)
    var commitWindow = HistorySettings().commitWindow

    @Option(help: "A file whose first line is the server password (clients must /pass it first). Or set CHATD_PASSWORD; never give it on the command line.")
    var passwordFile: String?

    @Option(help: "Comma-separated names reserved for server operators (reloadable with --config); they log in with the password of their line in --operators-file.")
    var operators = ""

    @Option(help: "A file of `NAME HASH` lines, one per operator, HASH from `chatd hash-password`; re-read on SIGHUP. Those names are reserved: nobody else can register or take them.")
    var operatorsFile: String?

    @Option(help: "Serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9878 (off by default).")
    var metrics: String?

    @Option(help: "Log format on stderr: text, or json (one object per line: time, level, message and fields).")
    var logFormat: LogFormat = .text

    /// Each number was range-checked as it was parsed (`SettingRange`); what is left are the
    /// rules between options.
    func validate() throws {
        if outputSoftLimit > outputHardLimit { throw ValidationError("--output-soft-limit must not exceed --output-hard-limit") }
        if let metrics, HostPort.parse(metrics) == nil { throw ValidationError("--metrics must be HOST:PORT, e.g. 127.0.0.1:9878 or [::1]:9878") }
        if noPlain && tlsPort == nil { throw ValidationError("--no-plain needs --tls-port: the server would listen nowhere") }
        if tlsPort == nil && (tlsCert != nil || tlsKey != nil) { throw ValidationError("--tls-cert and --tls-key need --tls-port") }
    }

    func run() throws {
        // First, before anything can copy it: the secret leaves the environment block too.
        let environmentPassword = SecretEnvironment.take("CHATD_PASSWORD")
        let level = logLevel
        logFormat.bootstrap(level: level)
        var logger = Logger(label: "chatd")
        logger.logLevel = level
        // A write to a client that reset must return EPIPE, not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        if !MemoryReturn.configure() { logger.warning("mallopt(M_MMAP_THRESHOLD) refused: memory freed after a burst may stay in the process") }

        var config = ServerConfig()
        config.host = host
        config.port = port
        config.listensInPlaintext = !noPlain
        config.tls.port = tlsPort
        config.tls.certificatePath = tlsCert
        config.tls.keyPath = tlsKey
        config.tls.handshakeTimeout = tlsHandshakeTimeout
        config.tls.maxHandshakes = tlsMaxHandshakes
        config.chat.maxLineBytes = maxLineBytes
        config.chat.noticeRoomLimit = noticeRoomLimit
        config.maxClients = maxClients
        config.outputHardLimit = outputHardLimit
        config.outputSoftLimit = outputSoftLimit
        config.outputSoftSeconds = outputSoftSeconds
        config.maxLineRate = maxLineRate
        config.lineBurst = lineBurst
        config.floodSeconds = floodSeconds
        config.idleTimeout = idleTimeout
        config.partialLineTimeout = partialLineTimeout
        config.maxClientsPerAddress = maxClientsPerAddress
        config.maxClientMemory = maxClientMemory
        config.chat.maxRooms = maxRooms
        config.operators = operators.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }

        // The command line is the base; the --config file is applied on top, at start and on
        // every SIGHUP, so removing a key from the file returns it to the command-line value.
        let base = config
        let configPath = self.config
        let motdPath = motdFile
        let operatorsPath = operatorsFile
        let baseLevel = level
        func loadSettings() throws -> (config: ServerConfig, level: Logger.Level) {
            var updated = base
            var chosenLevel = baseLevel
            var chosenMOTD = motdPath
            if let configPath {
                let pairs = try ConfigFile.parse(try TextFile.read(configPath))
                let (fileLevel, fileMOTD) = try ConfigFile.apply(pairs, to: &updated)
                if let fileLevel {
                    guard let parsed = Logger.Level(rawValue: fileLevel) else { throw ConfigFile.Problem(line: 0, text: "log-level \"\(fileLevel)\" is not a level") }
                    chosenLevel = parsed
                }
                chosenMOTD = fileMOTD ?? chosenMOTD
            }
            updated.motd = try chosenMOTD.map(readMOTD) ?? []
            if let operatorsPath {
                do {
                    updated.operatorAccounts = try OperatorsFile.parse(try TextFile.read(operatorsPath))
                } catch {
                    throw StartError("operators file \(operatorsPath): \(error)")
                }
            }
            return (updated, chosenLevel)
        }

        let server: ChatServer
        let reactor: Reactor
        let limit: Int
        let notifier: SystemdNotifier?
        do {
            let settings = try loadSettings()
            logger.logLevel = settings.level
            let environment = EnvironmentOptions.current
            let activated = try SocketActivation.take(environment: environment)
            do {
                notifier = try SystemdNotifier(environment: environment, logger: logger)
            } catch {
                // A supervisor's mistake must not stop chat: serve, without notifications.
                logger.warning("systemd notifications off: \(error)")
                notifier = nil
            }
            limit = try DescriptorLimit.raiseToHard()
            reactor = try Reactor.makeDefault()
            server = try ChatServer(config: settings.config, reactor: reactor, logger: logger, descriptorLimit: limit, listener: activated?.chat)
            if activated != nil { logger.notice("socket activation: serving the socket systemd passed (--host and --port are not used)") }
            if let endpoint = try startMetrics(server, inherited: activated?.metrics) {
                logger.notice("metrics served at http://\(endpoint)/metrics")
            }
            if !noHistory {
                var history = HistorySettings()
                history.replayLines = historyReplay
                history.commitWindow = commitWindow
                history.retention.maxLinesPerRoom = historyMaxLines
                history.retention.maxAgeSeconds = historyMaxDays * 86_400
                history.retention.maxDatabaseBytes = historyMaxBytes
                history.memoryBudget = historyMemory
                let store: HistoryStore
                do {
                    store = try HistoryStore(path: db)
                } catch {
                    throw StartError("history database: \(error) (move it aside, or start with --no-history)")
                }
                try server.enableHistory(store: store, settings: history)
            } else {
                logger.notice("history off: accounts and bans are kept in memory only, until exit")
            }
            try server.enableAccounts(serverPassword: try readServerPassword(environment: environmentPassword))
            logger.notice("descriptor limit \(limit): up to \(server.maxClients) clients")
        } catch {
            writeLineToStandardError("chatd: \(error)")
            throw ExitCode(1)
        }
        let stop = { (name: String) in
            {
                notifier?.stopping(status: "shutting down (\(name)); \(server.hub.clientCount) clients to notify")
                server.shutdown(reason: name)
            }
        }
        let signals = [
            SignalWatcher(reactor: reactor, signal: SIGINT, handler: stop("SIGINT")),
            SignalWatcher(reactor: reactor, signal: SIGTERM, handler: stop("SIGTERM")),
            SignalWatcher(reactor: reactor, signal: SIGHUP) {
                do {
                    let settings = try loadSettings()
                    server.reload(settings.config, logLevel: settings.level, descriptorLimit: limit)
                    server.hub.motd = settings.config.motd
                    logger.logLevel = settings.level
                    logger.notice("SIGHUP: settings reloaded; log level \(settings.level), up to \(server.maxClients) clients, \(settings.config.maxLineRate) lines/s")
                } catch {
                    logger.error("SIGHUP: \(error); keeping the current settings")
                }
            },
        ]
        signals.forEach { $0.start() }
        server.start()
        if server.config.listensInPlaintext { logger.notice("chatd listening on \(server.boundAddress)") }
        if let address = server.tlsBoundAddress {
            logger.notice("chatd listening for TLS on \(address) (certificate \(server.tlsCertificateSummary ?? "?"))")
        }
        notifier?.ready(reactor: reactor) { "\(server.hub.clientCount) clients; serving on \(server.boundAddress)" }
        reactor.run()
        notifier?.stop()
        signals.forEach { $0.stop() }
        server.stopWatchers()
        server.closeAccounts()
        server.closeHistory()
        logger.notice("chatd stopped")
    }
}

extension Serve {
    /// Starts the metrics endpoint on the socket systemd passed, else on `--metrics`; returns
    /// where it listens, or nil when metrics are off.
    func startMetrics(_ server: ChatServer, inherited: Int32?) throws -> SocketAddress? {
        if let inherited { return try server.enableMetrics(listener: inherited) }
        guard let metrics, let (host, port) = HostPort.parse(metrics) else { return nil }
        return try server.enableMetrics(on: SocketAddress(host: host, port: port))
    }

    /// The server password from `--password-file` (first line) or `CHATD_PASSWORD` (taken by
    /// `SecretEnvironment`: erased from the environment block, so neither /proc/PID/environ nor
    /// a child process shows it). Never logged.
    func readServerPassword(environment: [UInt8]?) throws -> [UInt8]? {
        var password = environment
        if let passwordFile {
            password = Array((try TextFile.lines(passwordFile).first ?? "").utf8)
        }
        guard let bytes = password else { return nil }
        guard bytes.count >= 8, !bytes.contains(where: { $0 <= 0x20 }) else {
            throw StartError("the server password must be at least 8 bytes with no spaces or control characters")
        }
        return bytes
    }
}

/// A start-up failure worth one clear line.
struct StartError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads a MOTD file: one notice per line (at most 50), control characters removed.
func readMOTD(_ path: String) throws -> [String] {
    try TextFile.lines(path).prefix(50).map { Sanitizer.printable(Substring($0)) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
