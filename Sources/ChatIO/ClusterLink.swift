import CHiredis
import ChatCore
import EventIO
import Glibc
import Logging

/// This node's link to the cluster's Redis: two hiredis connections on the reactor's loop (one
/// for commands and publishes, one subscribed to the events channel, this node's channel and
/// the channel of every room with a local member), a heartbeat that renews the node's lease and
/// learns which nodes are alive, and reconnection with backoff when Redis goes away.
///
/// The hub never sees Redis: once per loop iteration a prepare watcher takes its
/// `ClusterCommand`s and sends them; pushes and replies come back through the hub's cluster
/// entry points (`clusterReceived`, `clusterNodesAlive`, `clusterRecords`,
/// `clusterClaimRefused`). While Redis is down the node serves its own clients; what it would
/// have published is dropped and counted (pub/sub is at most once across a fault), and on
/// reconnection it subscribes, claims its names and writes its records again
/// (`Hub.clusterResync`).
public final class ClusterLink {
    /// Seconds a node's lease lasts without a heartbeat: a node killed outright is declared
    /// lost this long after its last heartbeat (plus one heartbeat interval at most). Longer
    /// than a 5 s Redis stall, so a paused Redis does not make every node look dead.
    public static let leaseSeconds = 7.0
    /// Seconds between heartbeats (and between checks of the link's health).
    public static let heartbeatSeconds = 1.0
    /// Seconds without a heartbeat answer after which Redis counts as not answering (logged once).
    static let unresponsiveSeconds = 3.0
    /// Commands sent and unanswered beyond which the link is cut and re-made: what a stalled
    /// Redis may make this node buffer (hiredis's output buffer grows with them).
    static let maxCommandsInFlight = 200_000
    /// First and longest wait before reconnecting; the wait doubles between.
    static let firstRetrySeconds = 0.1
    static let longestRetrySeconds = 5.0

    public let url: RedisURL
    public let node: String
    let hub: Hub
    let reactor: Reactor
    let logger: Logger

    /// The connection for commands and publishes (nil while Redis is down).
    private(set) var commands: RedisConnection?
    private var subscriber: RedisConnection?
    /// Connections that went down, kept until the next retry: never released inside their
    /// own hiredis callback.
    private var retired: [RedisConnection] = []
    private var connectedCount = 0
    public private(set) var isUp = false
    private var downSince: Double?
    private var downReason = ""
    private var retryDelay = ClusterLink.firstRetrySeconds
    private var heartbeatSentAt: Double?
    private var heartbeatsSinceUp = 0
    private var reportedUnresponsive = false
    /// Nodes whose records this connection has read.
    private var metNodes: Set<String> = []
    /// Publishes dropped because Redis was down, since the last report.
    private var unpublished = 0
    /// `node` and a tab: the second field of every message this node sends.
    private let ownPrefix: [UInt8]
    /// Where a received payload is copied for the hub (capacity kept between messages).
    private var scratch: [UInt8] = []
    /// This iteration's consecutive publishes on one channel, sent as one PUBLISH.
    private var batch = ClusterBatch()

    private var prepareWatcher: PrepareWatcher!
    private var heartbeatTimer: TimerWatcher!
    private var retryTimer: TimerWatcher!

    /// Lines a room's history stream keeps (about: `ClusterScripts.appendHistory`); 0: no cap.
    public let historyMaxLines: Int
    /// Rooms whose history read could not be sent (Redis down): answered "no history" from a
    /// timer, so the hub hears it in an iteration whose output is flushed.
    private var unreadHistory: [String] = []
    private var unreadHistoryTimer: TimerWatcher!
    public init(url: RedisURL, node: String, hub: Hub, reactor: Reactor, logger: Logger, historyMaxLines: Int = 0) {
        self.historyMaxLines = historyMaxLines
        self.url = url
        self.node = node
        self.hub = hub
        self.reactor = reactor
        self.logger = logger
        ownPrefix = Array(node.utf8) + [0x09]
        // After the server's own prepare watcher (priority 0), whose flush hands this
        // iteration's history to `RedisHistory` and may queue more commands: a room closed in
        // this iteration is dropped in Redis after its last lines were appended, not before
        // (they would re-create the stream of a protected room after its rules went).
        prepareWatcher = PrepareWatcher(reactor: reactor, priority: -1) { [unowned self] in sendHubCommands() }
        heartbeatTimer = TimerWatcher(reactor: reactor, after: Self.heartbeatSeconds, repeat: Self.heartbeatSeconds) { [unowned self] in tick() }
        retryTimer = TimerWatcher(reactor: reactor, after: 0, repeat: 0) { [unowned self] in connect() }
        unreadHistoryTimer = TimerWatcher(reactor: reactor, after: 0, repeat: 0) { [unowned self] in unreadHistoryTimerFired() }
    }

    deinit { stop() }

    /// Checks, blocking, that Redis answers (AUTH and SELECT included): start-up refuses to run
    /// a cluster node that cannot reach its Redis.
    public static func checkReachable(_ url: RedisURL, timeout: Double = 3) throws {
        var limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
        guard let context = redisConnectWithTimeout(url.host, Int32(url.port), limit) else { throw ClusterError("Redis at \(url.shown): out of memory") }
        defer { redisFree(context) }
        if context.pointee.err != 0 {
            throw ClusterError("Redis at \(url.shown) is unreachable: \(Self.errorText(context))")
        }
        limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
        redisSetTimeout(context, limit)
        var commands = url.setupCommands
        commands.append(["PING"])
        for command in commands {
            let reply = command.withCStringArray { argv, lengths in redisCommandArgv(context, Int32(command.count), argv, lengths) }
            guard let reply else { throw ClusterError("Redis at \(url.shown): \(command[0]) failed: \(Self.errorText(context))") }
            let answer = RedisReply(reply.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(reply)
            if case .error(let text) = answer { throw ClusterError("Redis at \(url.shown) refused \(command[0]): \(text)") }
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Connects and starts the heartbeat; the hub's commands go out from the next iteration.
    public func start() {
        hub.joinCluster(node: node)
        if hub.history != nil { hub.clusterOwnsHistory() }
        prepareWatcher.start()
        heartbeatTimer.start()
        connect()
    }

    /// Stops every watcher and closes both connections.
    public func stop() {
        prepareWatcher.stop()
        heartbeatTimer.stop()
        retryTimer.stop()
        unreadHistoryTimer.stop()
        commands?.close()
        subscriber?.close()
        commands = nil
        subscriber = nil
        retired.removeAll()
    }

    /// On the way out, after the loop stopped and before `stop` (blocking, best effort, 1 s
    /// timeout): writes what the link still holds (the last lines and quits), publishes what the
    /// last iteration queued (the quit notices of the clients closed at shutdown, which
    /// no prepare watcher sent), then gives up this node's lease, names and records so the
    /// others see it leave at once instead of after its lease.
    public func leave() {
        // The last iteration's prepare watcher may have handed hiredis commands (the quits of
        // the clients closed at shutdown) that the stopped loop never wrote: write them first.
        commands?.flushOutput()
        guard let context = redisConnectWithTimeout(url.host, Int32(url.port), timeval(tv_sec: 1, tv_usec: 0)) else { return }
        defer { redisFree(context) }
        guard context.pointee.err == 0 else { return }
        redisSetTimeout(context, timeval(tv_sec: 1, tv_usec: 0))
        var commands = url.setupCommands
        for case .publish(let channel, let payload) in hub.takeClusterCommands() {
            commands.append(["PUBLISH", channel, String(decoding: payload, as: UTF8.self)])  // payloads are UTF-8 (decode checks it)
        }
        commands.append(["EVAL", ClusterScripts.leave, "0", node])
        for command in commands {
            if let reply = command.withCStringArray({ argv, lengths in redisCommandArgv(context, Int32(command.count), argv, lengths) }) { freeReplyObject(reply) }
        }
    }

    // MARK: Connecting

    private func connect() {
        retired.removeAll()
        connectedCount = 0
        do {
            let commands = try RedisConnection(host: url.host, port: url.port, reactor: reactor)
            let subscriber = try RedisConnection(host: url.host, port: url.port, reactor: reactor)
            for connection in [commands, subscriber] {
                connection.connected = { [unowned self] error in
                    if let error { return lost(error) }
                    connectedCount += 1
                    if connectedCount == 2 { up() }
                }
                connection.disconnected = { [unowned self] reason in lost(reason) }
                prepare(connection)
            }
            subscriber.pushed = { [unowned self] payload in received(payload) }
            self.commands = commands
            self.subscriber = subscriber
        } catch {
            lost("\(error)")
        }
    }

    /// AUTH and SELECT go first on a new connection; a refusal is a fault like any other.
    private func prepare(_ connection: RedisConnection) {
        for command in url.setupCommands {
            connection.send(command.map { Array($0.utf8) }) { [unowned self] reply in
                if case .error(let text) = reply { lost("\(command[0]) refused: \(text)") }
            }
        }
    }

    private func up() {
        isUp = true
        retryDelay = Self.firstRetrySeconds
        heartbeatsSinceUp = 0
        heartbeatSentAt = nil
        reportedUnresponsive = false
        metNodes = []
        if let downSince {
            let seconds = (reactor.now - downSince).formatted1
            logger.notice("cluster: Redis at \(url.shown) reachable again after \(seconds) s; \(unpublished) lines and notices were not published meanwhile; resubscribing and reclaiming names",
                          metadata: ["node": "\(node)", "unpublished": "\(unpublished)"])
            unpublished = 0
        } else {
            logger.notice("cluster: node \(node) joined through \(url.shown)")
        }
        downSince = nil
        subscriber?.subscription([ClusterKeys.eventsChannel, ClusterKeys.nodeChannel(node)].map { Array($0.utf8) }.prepending(Array("SUBSCRIBE".utf8)))
        heartbeat()
        hub.clusterResync()
    }

    /// A connection failed or went down: log once per outage, close the other, retry later.
    private func lost(_ reason: String) {
        if downSince == nil {
            downSince = reactor.now
            downReason = reason
            logger.error("cluster: lost Redis at \(url.shown) (\(reason)); serving this node's clients only, reconnecting",
                         metadata: ["node": "\(node)"])
        }
        isUp = false
        for connection in [commands, subscriber].compactMap({ $0 }) {
            connection.connected = nil
            connection.disconnected = nil
            connection.pushed = nil
            connection.close()
            retired.append(connection)
        }
        commands = nil
        subscriber = nil
        retryTimer.schedule(after: retryDelay)
        retryDelay = min(retryDelay * 2, Self.longestRetrySeconds)
    }

    // MARK: Heartbeat

    private func tick() {
        guard isUp, let commands else { return }
        if let sent = heartbeatSentAt {
            let waited = reactor.now - sent
            if waited >= Self.unresponsiveSeconds && !reportedUnresponsive {
                reportedUnresponsive = true
                logger.warning("cluster: Redis at \(url.shown) has not answered for \(waited.formatted1) s; serving this node's clients, lines for other nodes wait (\(commands.inFlight) commands unanswered)",
                               metadata: ["node": "\(node)"])
            }
            if commands.inFlight > Self.maxCommandsInFlight { lost("\(commands.inFlight) commands unanswered") }
            return
        }
        heartbeat()
    }

    private func heartbeat() {
        guard let commands else { return }
        heartbeatSentAt = reactor.now
        let arguments = ["EVAL", ClusterScripts.heartbeat, "0", node, String(Int(Self.leaseSeconds * 1000))].map { Array($0.utf8) }
        commands.send(arguments) { [weak self] reply in self?.heartbeatAnswered(reply) }
    }

    private func heartbeatAnswered(_ reply: RedisReply?) {
        guard let reply else { return }  // the link went down; `lost` handles it
        if reportedUnresponsive, let sent = heartbeatSentAt {
            logger.notice("cluster: Redis at \(url.shown) answering again after \((reactor.now - sent).formatted1) s", metadata: ["node": "\(node)"])
        }
        reportedUnresponsive = false
        heartbeatSentAt = nil
        guard case .array(let items) = reply, let rejoined = items.first?.text else {
            logger.error("cluster: unexpected heartbeat answer from Redis: \(reply)")
            return
        }
        let live = Set(items.dropFirst().compactMap(\.text))
        hub.now = reactor.now
        if rejoined == "1" && heartbeatsSinceUp > 0 {
            logger.warning("cluster: this node's lease had lapsed (the others declared it lost); claiming its names again", metadata: ["node": "\(node)"])
            hub.clusterResync()
        }
        heartbeatsSinceUp += 1
        hub.clusterNodesAlive(live)
        for other in live where other != node && !metNodes.contains(other) { fetchRecords(of: other) }
    }

    private func fetchRecords(of other: String) {
        metNodes.insert(other)
        commands?.send([Array("HGETALL".utf8), Array(ClusterKeys.clientsHash(other).utf8)]) { [weak self] reply in
            guard let self, case .array(let items) = reply else { return }
            var records: [(address: String, record: ClientRecord)] = []
            var index = 0
            while index + 1 < items.count {
                if let address = items[index].text, let text = items[index + 1].text, let record = ClientRecord(decoding: text) {
                    records.append((address, record))
                }
                index += 2
            }
            hub.now = reactor.now
            hub.clusterRecords(node: other, records)
        }
    }

    // MARK: History

    /// Reads a room's latest lines from its stream (`ClusterScripts.readHistory`: a ring's worth
    /// of lines, not entries) on
    /// the command connection, and hands them to the hub oldest first when Redis answers; the
    /// loop never waits for it (Hub+ClusterHistory.swift).
    private func readHistory(_ room: String, on commands: RedisConnection) {
        let arguments = ["EVAL", ClusterScripts.readHistory, "0", ClusterKeys.historyStream(room), ClusterKeys.historyLines(room),
                         String(HistorySettings.linesInMemory)].map { Array($0.utf8) }
        let sent = commands.send(arguments) { [weak self] reply in
            guard let self else { return }
            hub.now = reactor.now
            guard case .array(let items)? = reply else {
                logger.error("history: cannot read \(room) from Redis (\(reply.map { "\($0)" } ?? "connection lost")); the room goes on with the lines it has")
                return hub.clusterHistoryRead(room: room, nil)
            }
            hub.clusterHistoryRead(room: room, Self.historyEntries(items, room: room))
        }
        if !sent { historyNotRead(room) }
    }

    /// An XREVRANGE answer (newest first) as entries oldest first; malformed entries skipped.
    static func historyEntries(_ items: [RedisReply], room: String) -> [HistoryEntry] {
        var entries: [HistoryEntry] = []
        for item in items.reversed() {
            guard case .array(let pair) = item, pair.count == 2, case .array(let fields) = pair[1] else { continue }
            let values = fields.compactMap { field -> [UInt8]? in if case .string(let bytes) = field { bytes } else { nil } }
            if values.count == fields.count { entries += HistoryEntry.lines(room: room, streamFields: values) }
        }
        return Array(entries.suffix(HistorySettings.linesInMemory))
    }

    private func historyNotRead(_ room: String) {
        unreadHistory.append(room)
        unreadHistoryTimer.schedule(after: 0)
    }

    /// The timer's callback: the rooms whose read could not be sent start without history.
    private func unreadHistoryTimerFired() {
        let rooms = unreadHistory
        unreadHistory = []
        guard !rooms.isEmpty else { return }
        logger.error("history: Redis at \(url.shown) is unreachable; \(rooms.count) room(s) created meanwhile start without their history", metadata: ["node": "\(node)"])
        hub.now = reactor.now
        for room in rooms { hub.clusterHistoryRead(room: room, nil) }
    }

    // MARK: Traffic

    /// A pub/sub message's payload (valid for this call only): this node's own messages,
    /// which Redis sends back on every room channel it subscribes to, are recognised by their
    /// prefix and skipped before anything is copied; the rest is copied into one reused buffer
    /// for the hub.
    private func received(_ payload: UnsafeRawBufferPointer) {
        guard let base = payload.baseAddress else { return }
        if payload.count > ownPrefix.count + 1, payload[1] == 0x09,
           ownPrefix.withUnsafeBytes({ own in own.baseAddress.map { memcmp($0, base + 2, own.count) == 0 } ?? false }) {
            return
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: payload)
        hub.now = reactor.now
        hub.clusterReceived(scratch[...])
    }

    /// The prepare watcher: everything the hub asked for this iteration goes out now.
    private func sendHubCommands() {
        let pending = hub.takeClusterCommands()
        guard !pending.isEmpty else { return }
        guard isUp, let commands, let subscriber else {
            unpublished += pending.reduce(0) { if case .publish = $1 { $0 + 1 } else { $0 } }
            for case .readHistory(let room) in pending { historyNotRead(room) }
            return
        }
        for command in pending {
            switch command {
            case .publish(let channel, let payload):
                if !batch.accepts(payload, on: channel) { flushBatch(commands) }
                batch.append(payload, on: channel)
                continue
            default:
                flushBatch(commands)
            }
            switch command {
            case .publish:
                break
            case .subscribe(let room):
                subscriber.subscription([Array("SUBSCRIBE".utf8), Array(ClusterKeys.roomChannel(room).utf8)])
            case .unsubscribe(let room):
                subscriber.subscription([Array("UNSUBSCRIBE".utf8), Array(ClusterKeys.roomChannel(room).utf8)])
            case .claim(let name):
                commands.send(["EVAL", ClusterScripts.claim, "0", name, node].map { Array($0.utf8) }) { [weak self] reply in
                    guard let self, let reply else { return }
                    switch reply {
                    case .integer(0):
                        hub.now = reactor.now
                        hub.clusterClaimRefused(name)
                    case .error(let text): logger.error("cluster: claiming a name failed: \(text)")
                    default: break
                    }
                }
            case .release(let name):
                commands.send(["EVAL", ClusterScripts.release, "0", name, node].map { Array($0.utf8) })
            case .record(let address, let record):
                let key = ClusterKeys.clientsHash(node)
                if let record {
                    commands.send(["HSET", key, address, record.encoded].map { Array($0.utf8) })
                } else {
                    commands.send(["HDEL", key, address].map { Array($0.utf8) })
                }
            case .offerAccount(let key, let account):
                commands.sendWithoutReply(["HSETNX", ClusterKeys.accountsHash, key, account.clusterValue].map { Array($0.utf8) })
            case .offerBan(let ban):
                commands.sendWithoutReply(["HSETNX", ClusterKeys.bansHash, ban.target, ban.clusterValue].map { Array($0.utf8) })
            case .fetchBans:
                fetchBans()
            case .fetchAccounts:
                commands.send(["HGETALL", ClusterKeys.accountsHash].map { Array($0.utf8) }) { [weak self] reply in
                    guard let self, case .array(let items) = reply else { return }
                    var accounts: [(key: String, account: Account)] = []
                    var index = 0
                    while index + 1 < items.count {
                        if let key = items[index].text, let value = items[index + 1].text, let account = Account(clusterValue: value) {
                            accounts.append((key, account))
                        }
                        index += 2
                    }
                    hub.now = reactor.now
                    hub.clusterAccounts(accounts)
                }
            case .fetchRecords(let other):
                if other != node { fetchRecords(of: other) }
            case .roomOpened(let room):
                commands.sendWithoutReply(["EVAL", ClusterScripts.roomOpened, "0", room, node].map { Array($0.utf8) })
            case .roomClosed(let room, let announce):
                commands.sendWithoutReply(["EVAL", ClusterScripts.roomClosed, "0", room, node].map { Array($0.utf8) } + [announce])
            case .setRules(let room, let changes, let onlyIfNew):
                var arguments = ["EVAL", ClusterScripts.setRules, "0", room, onlyIfNew ? "1" : "0"].map { Array($0.utf8) }
                for change in changes { arguments += [Array(change.field.utf8), Array(change.value.utf8), change.announce] }
                commands.send(arguments) { [weak self] reply in
                    guard let self, let reply else { return }
                    switch reply {
                    case .array(let items):  // another node created the room first: its rules
                        hub.now = reactor.now
                        hub.clusterRulesRead(room: room, fields: Self.pairs(items))
                    case .error(let text): logger.error("cluster: setting a rule of \(room) failed: \(text)")
                    default: break
                    }
                }
            case .readHistory(let room):
                readHistory(room, on: commands)
            case .fetchRules:
                commands.send(["EVAL", ClusterScripts.fetchRules, "0"].map { Array($0.utf8) }) { [weak self] reply in
                    guard let self, case .array(let items) = reply else { return }
                    var all: [(room: String, fields: [(field: String, value: String)])] = []
                    var index = 0
                    while index + 1 < items.count {
                        if let room = items[index].text, NameRules.isValidRoom(Substring(room)), case .array(let fields) = items[index + 1] {
                            all.append((room, Self.pairs(fields)))
                        }
                        index += 2
                    }
                    hub.now = reactor.now
                    hub.clusterAllRules(all)
                }
            }
        }
        flushBatch(commands)
    }

    /// Publishes the consecutive messages held for one channel as one payload.
    private func flushBatch(_ commands: RedisConnection) {
        guard batch.records > 0, let channel = batch.channel else { return }
        if !commands.publish(channel: channel, payload: batch.bytes) { unpublished += batch.records }
        batch.clear()
    }
}

extension ClusterLink {
    /// A flat Redis array of field, value, field, value… as pairs (non-text items skipped).
    static func pairs(_ items: [RedisReply]) -> [(field: String, value: String)] {
        var pairs: [(field: String, value: String)] = []
        var index = 0
        while index + 1 < items.count {
            if let field = items[index].text, let value = items[index + 1].text { pairs.append((field, value)) }
            index += 2
        }
        return pairs
    }
}

private extension Array {
    func prepending(_ element: Element) -> [Element] { [element] + self }
}

private extension Double {
    var formatted1: String { String(Int(self * 10) / 10) + "." + String(Int(self * 10) % 10) }
}

extension Array where Element == String {
    /// Lends the strings to a C call as `argv` and lengths (for the call only).
    func withCStringArray<Result>(_ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result) -> Result {
        RedisConnection.withArgv(map { [UInt8]($0.utf8) }) { _, argv, lengths in body(argv, lengths) }
    }
}
