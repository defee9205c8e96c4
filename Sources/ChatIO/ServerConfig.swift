import ChatCore

/// Everything the daemon can be told at start. Each bound is documented where it is enforced;
/// defaults are chosen for humans on `nc`, and the README lists them.
public struct ServerConfig: Sendable {
    public var host = "127.0.0.1"
    public var port: UInt16 = 7878
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
    /// A client may hold an unfinished line at most this long (0: forever): slow-loris defence.
    public var partialLineTimeout = 120.0
    /// Most clients from one IP address (0: no limit; soak tests come from one address).
    public var maxClientsPerAddress = 0
    /// Lines shown to every new client after the welcome.
    public var motd: [String] = []
    /// Account names that are server operators while logged in.
    public var operators: [String] = []

    public init() {}

    /// The client limit in force: `maxClients`, or what the descriptor limit allows.
    func clientLimit(descriptorLimit: Int) -> Int {
        maxClients ?? max(1, descriptorLimit - IOLimits.reservedDescriptors)
    }

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
    /// iovec entries per writev(2) (Linux IOV_MAX).
    static let iovecsPerWrite = 1024
    /// Descriptors kept back from `maxClients` for the listener, the reserve fd, logs and stdio.
    static let reservedDescriptors = 32
    /// How long the listener rests after an accept error it cannot resolve at once.
    static let acceptPauseSeconds = 0.1
    /// At most one log line per this many seconds for repeated accept failures.
    static let acceptErrorLogInterval = 1.0
    /// How often held-back (flood-controlled) clients are looked at.
    static let floodTickSeconds = 0.05
    /// TCP keepalive: probe after this idle time, this often, this many times (a peer that
    /// vanished without a FIN is found in about two minutes, not the kernel's two hours).
    static let keepaliveIdleSeconds: Int32 = 60
    static let keepaliveIntervalSeconds: Int32 = 10
    static let keepaliveProbes: Int32 = 6
}
