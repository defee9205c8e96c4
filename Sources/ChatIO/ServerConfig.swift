import ChatCore
import EventIO

/// Everything the daemon can be told at start. Each bound is documented where it is enforced;
/// defaults are chosen for humans on `nc`, and the README lists them.
public struct ServerConfig: Sendable {
    public var host = "127.0.0.1"
    public var port: UInt16 = 7878
    /// Whether the plaintext port listens at all (`--no-plain`: TLS only).
    public var listensInPlaintext = true
    /// The TLS listener (`--tls-port`, `--tls-cert`, `--tls-key`); off unless a port is set.
    public var tls = TLSSettings()
    public var chat = ChatLimits()
    /// Most clients at once; nil means "what the descriptor limit allows" (see `Limits`).
    public var maxClients: Int?
    /// listen(2) backlog; the kernel caps it at somaxconn.
    public var listenBacklog: Int32 = 511
    /// Pending output over this closes the client at once (redis's hard limit).
    public var outputHardLimit = 4 << 20
    /// Pending output continuously over this for `outputSoftSeconds` closes the client.
    public var outputSoftLimit = 1 << 20
    public var outputSoftSeconds = 30.0
    /// The sum of every client's output backlog and held input may not pass this; over it the
    /// clients using the most are cut first (Redis 7's `maxmemory-clients`). Default: a quarter
    /// of the machine's memory (see `ServerConfig.defaultClientMemory`).
    public var maxClientMemory = ServerConfig.defaultClientMemory
    /// How long shutdown waits for clients to take their goodbye before closing them anyway.
    public var shutdownGraceSeconds = 3.0
    /// Flood control: lines per second per client (0: unlimited) and the burst allowed above
    /// it. Excess lines are held and the socket is not read until tokens return.
    public var maxLineRate = 10.0
    public var lineBurst = 20.0
    /// A client held back by flood control continuously this long is disconnected.
    public var floodSeconds = 30.0
    /// A client that sends nothing for this long is disconnected (0: never).
    public var idleTimeout = 0.0
    /// How long a new connection's first bytes are awaited to tell its protocol (IRC, HTTP)
    /// before it is taken to speak chatd's own and welcomed (0: no wait, chatd's protocol only).
    public var protocolWait = 0.25
    /// IRC registration and ping timing (the PONG wait is the ping interval again).
    public var irc = IRCTimeouts()
    /// The web door (`--web`, on by default): an HTTP request on the chat port gets the chat page
    /// (`GET /`) or a WebSocket (`GET /ws`) instead of a 400 answer. The door adds nothing to a
    /// plain-TCP client's path (it is only built for HTTP clients); what every silent nc or telnet
    /// user does pay is protocol detection's wait for its welcome (`protocolWait`).
    public var web = true
    /// Page origins allowed to open a WebSocket besides the page chatd serves itself
    /// (`--web-origin`, e.g. `https://chat.example.org` behind a proxy; `*` for any).
    public var webOrigins: [String] = []
    /// A client may hold an unfinished line at most this long (0: forever): slow-loris defence.
    public var partialLineTimeout = 120.0
    /// Most clients from one IP address (0: no limit; soak tests come from one address).
    public var maxClientsPerAddress = 0
    /// Lines shown to every new client after the welcome.
    public var motd: [String] = []
    /// Names reserved for server operators (`--operators`); only those with a line in
    /// `operatorAccounts` can log in.
    public var operators: [String] = []
    /// Operator accounts from `--operators-file`, by folded name (re-read on SIGHUP).
    public var operatorAccounts: [String: Account] = [:]

    public init() {}

    /// The client limit in force: `maxClients`, or what the descriptor limit allows.
    func clientLimit(descriptorLimit: Int) -> Int {
        maxClients ?? max(1, descriptorLimit - IOLimits.reservedDescriptors)
    }

    /// The outbox allowance of a client with nothing pending: its hard limit, as the outbox
    /// counts it (32 bits; a limit at or above 4 GiB is as good as none in one pass).
    var outputAllowance: UInt32 { UInt32(clamping: outputHardLimit) }

    /// A quarter of physical memory, or 1 GiB where the machine does not say.
    public static var defaultClientMemory: Int { PhysicalMemory.bytes.map { $0 / 4 } ?? 1 << 30 }

    /// A fresh flood-control bucket for one client, or nil when flood control is off.
    func makeBucket(now: Double) -> TokenBucket? {
        maxLineRate > 0 ? TokenBucket(rate: maxLineRate, burst: max(1, lineBurst), now: now) : nil
    }
}

/// Named I/O bounds that are not configuration.
enum IOLimits {
    /// Bytes read per read(2): one shared buffer for the whole loop, so idle clients hold none.
    static let readBufferBytes = 64 * 1024
    /// Connections accepted per listener callback before other clients get a turn.
    static let acceptsPerCallback = 128
    /// iovec entries per sendmsg(2) (Linux IOV_MAX).
    static let iovecsPerWrite = 1024
    /// Descriptors kept back from `maxClients` for the listener, the reserve fd, logs and stdio.
    static let reservedDescriptors = 32
    /// How long the listener rests after an accept error it cannot resolve at once.
    static let acceptPauseSeconds = 0.1
    /// At most one log line per this many seconds for repeated accept failures.
    static let acceptErrorLogInterval = 1.0
    /// How often held input (flood control, pass budget) is looked at.
    static let floodTickSeconds = 0.05
    /// Bytes one loop pass may render before it stops handing clients' input to the hub; the
    /// rest waits (held, unread) for the next pass. Keeps the outbox's arenas, whose offsets
    /// are 31-bit, far below 2 GiB, and one pass's latency bounded.
    static let passRenderBudget = 32 << 20
    /// Bytes of lines handed to the history writer and not yet committed
    /// (`RoomLines.bytesInMemory`), past which clients' input is held until it catches up:
    /// a flood cannot pile lines up in memory faster than the disk takes them, whatever their
    /// length. Above what the fan-out benchmark's rate puts in one commit window (~110,000 lines a
    /// second of ~80 stored bytes each: ~0.5 MB in 50 ms), and
    /// the writer commits at once instead of waiting out the window when a batch was large.
    static let historyBytesInFlight = 2 << 20
    /// A client that quit or half-closed is closed this long after, even if its output has not
    /// drained (redis closes such clients at once; a short grace lets a goodbye arrive).
    static let closeLingerSeconds = 5.0
    /// When over the client-memory budget, clients are cut until the total is this fraction of
    /// it, so one shed is not followed at once by another.
    static let clientMemoryShedTarget = 0.9
    /// TCP keepalive: probe after this idle time, this often, this many times (a peer that
    /// vanished without a FIN is found in about two minutes, not the kernel's two hours).
    static let keepaliveIdleSeconds: Int32 = 60
    static let keepaliveIntervalSeconds: Int32 = 10
    static let keepaliveProbes: Int32 = 6
}
