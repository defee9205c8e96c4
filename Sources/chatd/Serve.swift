import ArgumentParser
import ChatCore
import ChatIO
import Glibc
import Logging

/// `chatd [serve]`: the daemon. A plain ParsableCommand because `ev_run` blocks this thread.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the chat daemon (the default).")

    @Option(help: "Address to listen on: an IPv4 or IPv6 literal, or localhost.")
    var host = "127.0.0.1"

    @Option(help: "TCP port to listen on (0 picks a free one; the log says which).")
    var port: UInt16 = 7878

    @Option(help: "Log level: trace, debug, info (every connect and disconnect), notice, warning, error or critical.")
    var logLevel: Logger.Level = .notice

    @Option(help: "Longest line a client may send, in bytes; longer lines are dropped with an error.")
    var maxLineBytes = ChatLimits().maxLineBytes

    @Option(help: "Most clients at once (default: the descriptor limit minus a small reserve).")
    var maxClients: Int?

    @Option(help: "Rooms with more members than this get no join/part/rename/quit notices.")
    var noticeRoomLimit = ChatLimits().noticeRoomLimit

    @Option(help: "Unsent output per client (bytes) that closes it at once.")
    var outputHardLimit = ServerConfig().outputHardLimit

    @Option(help: "Unsent output per client (bytes) that closes it if it persists for --output-soft-seconds.")
    var outputSoftLimit = ServerConfig().outputSoftLimit

    @Option(help: "How long a client may stay over --output-soft-limit.")
    var outputSoftSeconds = ServerConfig().outputSoftSeconds

    @Option(help: "Lines per second a client may send (0: unlimited); excess lines wait, unread.")
    var maxLineRate = ServerConfig().maxLineRate

    @Option(help: "Lines a client may send in a burst above --max-line-rate.")
    var lineBurst = ServerConfig().lineBurst

    @Option(help: "Seconds a client may stay held back by flood control before it is disconnected.")
    var floodSeconds = ServerConfig().floodSeconds

    @Option(help: "Seconds without input after which a client is disconnected (0: never).")
    var idleTimeout = ServerConfig().idleTimeout

    @Option(help: "Seconds a client may hold an unfinished line (0: forever).")
    var partialLineTimeout = ServerConfig().partialLineTimeout

    @Option(help: "Most clients from one IP address (0: no limit).")
    var maxClientsPerAddress = ServerConfig().maxClientsPerAddress

    @Option(help: "A file whose lines are shown to every new client; re-read on SIGHUP.")
    var motdFile: String?

    func validate() throws {
        if maxLineBytes < 16 || maxLineBytes > 1 << 20 { throw ValidationError("--max-line-bytes must be between 16 and 1048576") }
        if let maxClients, maxClients < 1 { throw ValidationError("--max-clients must be at least 1") }
        if outputSoftLimit > outputHardLimit { throw ValidationError("--output-soft-limit must not exceed --output-hard-limit") }
        if maxLineRate < 0 || lineBurst < 1 { throw ValidationError("--max-line-rate must be >= 0 and --line-burst >= 1") }
        if idleTimeout < 0 || partialLineTimeout < 0 || floodSeconds <= 0 { throw ValidationError("timeouts must not be negative") }
    }

    func run() throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "chatd")
        logger.logLevel = level
        // A write to a client that reset must return EPIPE, not kill the daemon.
        signal(SIGPIPE, SIG_IGN)

        var config = ServerConfig()
        config.host = host
        config.port = port
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
        config.motd = try motdFile.map(readMOTD) ?? []

        let server: ChatServer
        let reactor: Reactor
        do {
            let limit = try DescriptorLimit.raiseToHard()
            reactor = try Reactor.makeDefault()
            server = try ChatServer(config: config, reactor: reactor, logger: logger, descriptorLimit: limit)
            logger.notice("descriptor limit \(limit): up to \(server.maxClients) clients")
        } catch {
            printToStandardError("chatd: \(error)")
            throw ExitCode(1)
        }
        let stop = { (name: String) in { server.shutdown(reason: name) } }
        let signals = [
            SignalWatcher(reactor: reactor, signal: SIGINT, handler: stop("SIGINT")),
            SignalWatcher(reactor: reactor, signal: SIGTERM, handler: stop("SIGTERM")),
            SignalWatcher(reactor: reactor, signal: SIGHUP) {
                guard let motdFile else { return logger.notice("SIGHUP: nothing to reload") }
                do {
                    server.hub.motd = try readMOTD(motdFile)
                    logger.notice("SIGHUP: reloaded \(motdFile)")
                } catch {
                    logger.error("SIGHUP: \(error); keeping the old MOTD")
                }
            },
        ]
        signals.forEach { $0.start() }
        server.start()
        logger.notice("chatd listening on \(server.boundAddress)")
        reactor.run()
        signals.forEach { $0.stop() }
        server.stopWatchers()
        logger.notice("chatd stopped")
    }
}

/// Reads a MOTD file: one notice per line, control characters removed.
func readMOTD(_ path: String) throws -> [String] {
    guard let file = fopen(path, "r") else { throw MOTDError(path: path, errno: errno) }
    defer { fclose(file) }
    var lines: [String] = []
    var buffer = [CChar](repeating: 0, count: 1024)
    while fgets(&buffer, Int32(buffer.count), file) != nil {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let text = Sanitizer.printable(Substring(String(decoding: bytes, as: UTF8.self)))
        let trimmed = text.hasSuffix("?") && bytes.last == 0x0A ? String(text.dropLast()) : text
        if lines.count < 50 { lines.append(trimmed) }
    }
    return lines
}

struct MOTDError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { SystemError("fopen", path, errno: errno).description }
}

func printToStandardError(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
