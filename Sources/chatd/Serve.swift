import ArgumentParser
import ChatCore
import ChatIO
import ChatStore
import EventIO
import Glibc
import Logging

/// `chatd [serve]`: the daemon. A plain ParsableCommand because `ev_run` blocks this thread.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the chat daemon (the default).")

    /// Every option is an entry of `Setting.table` (ChatIO), brought in through `SettingOptions`.
    @OptionGroup var options: SettingOptions

    /// The settings the command line and environment give, before the `--config` file.
    var settings: DaemonSettings { DaemonSettings(options.changes) }

    /// Each number was range-checked as it was parsed (the table's parsers); what is left are
    /// the rules between settings, the same ones the `--config` file is held to.
    func validate() throws {
        if let conflict = settings.conflict(spelling: { "--" + $0 }) { throw ValidationError(conflict) }
    }

    func run() throws {
        // First, before anything can copy it: the secret leaves the environment block too.
        let environmentPassword = SecretEnvironment.take("CHATD_PASSWORD")
        let redisPassword = SecretEnvironment.take("CHATD_REDIS_PASSWORD")
        // The command line is the base; `loaded()` puts the --config file on top, at start and
        // on every SIGHUP, so removing a key from the file returns it to the command-line value.
        let base = settings
        let level = base.logLevel
        base.logFormat.bootstrap(level: level)
        var logger = Logger(label: "chatd")
        logger.logLevel = level
        // A write to a client that reset must return EPIPE, not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        if !MemoryReturn.configure() { logger.warning("mallopt(M_MMAP_THRESHOLD) refused: memory freed after a burst may stay in the process") }

        let server: ChatServer
        let reactor: Reactor
        let limit: Int
        let notifier: SystemdNotifier?
        let cluster: ClusterLink?
        do {
            let settings = try base.loaded()
            logger.logLevel = settings.logLevel
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
            server = try ChatServer(config: settings.server, reactor: reactor, logger: logger, descriptorLimit: limit, listener: activated?.chat)
            if activated != nil { logger.notice("socket activation: serving the socket systemd passed (--host and --port are not used)") }
            if let endpoint = try startMetrics(server, settings.metrics, inherited: activated?.metrics) {
                logger.notice("metrics served at http://\(endpoint)/metrics")
            }
            if settings.usesStore {
                let store: HistoryStore
                do {
                    store = try HistoryStore(path: settings.storePath)
                } catch {
                    throw StartError("history database: \(error) (move it aside, or start with --no-history)")
                }
                try server.openStore(store, history: settings.history)
            } else {
                logger.notice("history off: accounts and bans are kept in memory only, until exit")
            }
            try server.enableAccounts(serverPassword: try readServerPassword(file: settings.passwordFile, environment: environmentPassword))
            cluster = try makeClusterLink(settings, server: server, reactor: reactor, logger: logger, environmentPassword: redisPassword)
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
                    let settings = try base.loaded()
                    server.reload(settings.server, logLevel: settings.logLevel, descriptorLimit: limit)
                    logger.logLevel = settings.logLevel
                    logger.notice("SIGHUP: settings reloaded; log level \(settings.logLevel), up to \(server.maxClients) clients, \(settings.server.maxLineRate) lines/s")
                } catch {
                    logger.error("SIGHUP: \(error); keeping the current settings")
                    // The certificate is re-read all the same: a renewal must not wait for an
                    // unrelated typo to be fixed (a bad pair is still refused on its own).
                    server.reloadTLSCertificate()
                }
            },
        ]
        signals.forEach { $0.start() }
        server.start()
        cluster?.start()
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
        server.closeStore()  // a cluster node's last history goes to the link's connection…
        cluster?.leave()  // …which writes it with the last quits before the node leaves
        cluster?.stop()
        logger.notice("chatd stopped")
    }
}

extension Serve {
    /// Starts the metrics endpoint on the socket systemd passed, else on `--metrics`; returns
    /// where it listens, or nil when metrics are off.
    func startMetrics(_ server: ChatServer, _ metrics: String?, inherited: Int32?) throws -> SocketAddress? {
        if let inherited { return try server.enableMetrics(listener: inherited) }
        guard let metrics, let (host, port) = HostPort.parse(metrics) else { return nil }
        return try server.enableMetrics(on: SocketAddress(host: host, port: port))
    }

    /// The server password from `--password-file` (first line) or `CHATD_PASSWORD` (taken by
    /// `SecretEnvironment`: erased from the environment block, so neither /proc/PID/environ nor
    /// a child process shows it). Never logged.
    func readServerPassword(file passwordFile: String?, environment: [UInt8]?) throws -> [UInt8]? {
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

