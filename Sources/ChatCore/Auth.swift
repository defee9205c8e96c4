/// Password work the hub asks for and the I/O layer runs on the hashing thread. The hub never
/// hashes (it has no crypto and must never wait); it queues a job in its `PasswordQueue`, the
/// I/O layer takes as many as its hashing thread has room for with `takeEffects(passwordJobs:)`,
/// and the hub acts when
/// `authFinished` brings the result back, checking the client is still the same connection
/// (`serial`), since a slot can be reused while a hash runs.
public struct AuthJob: Sendable {
    public enum Work: Sendable {
        case hash([UInt8])
        case verify([UInt8], against: String)
        /// `/passwd`: check the old password, then hash the new one.
        case verifyThenHash(old: [UInt8], against: String, new: [UInt8])
    }

    public enum Purpose: Sendable, Equatable {
        case register(name: String)
        case login(name: String)
        case changePassword
    }

    public let client: ClientID
    public let serial: UInt64
    public let purpose: Purpose
    public let work: Work
}

/// What came of an `AuthJob`. Carries no password.
public struct AuthResult: Sendable {
    public enum Outcome: Sendable, Equatable {
        case hashed(String)
        case verified
        case rejected
        /// The hash could not be made (libsodium could not get its memory).
        case failed
    }

    public let client: ClientID
    public let serial: UInt64
    public let purpose: AuthJob.Purpose
    public let outcome: Outcome

    public init(job: AuthJob, outcome: Outcome) {
        client = job.client
        serial = job.serial
        purpose = job.purpose
        self.outcome = outcome
    }
}

/// A registered account: its display name and Argon2id hash string (never the password).
public struct Account: Sendable, Equatable {
    public var name: String
    public var hash: String
    public init(name: String, hash: String) {
        self.name = name
        self.hash = hash
    }
}

/// A server-wide ban on a name or an address, until a time or forever.
public struct ServerBan: Sendable, Equatable {
    /// A folded name, or an address (`127.0.0.2`, `::1`).
    public var target: String
    public var isAddress: Bool
    /// Seconds since the epoch; nil: until lifted.
    public var until: Double?
    public var setBy: String
    public init(target: String, isAddress: Bool, until: Double?, setBy: String) {
        self.target = target
        self.isAddress = isAddress
        self.until = until
        self.setBy = setBy
    }
}

/// Changes to persist (accounts and bans), handed to the database writer like history.
public enum AccountChange: Sendable, Equatable {
    case saveAccount(key: String, Account)
    case saveBan(ServerBan)
    case removeBan(target: String)
}

/// An account change a client's reply waits on: the I/O layer hands it to the database writer
/// and calls `Hub.accountWriteFinished` with the ticket once it is committed, or failed.
public struct AccountWrite: Sendable, Equatable {
    public let ticket: UInt64
    public let change: AccountChange
}

/// An account change handed to the database whose client waits for the commit.
struct PendingAccountWrite {
    let client: ClientID
    let serial: UInt64
    let purpose: AuthJob.Purpose
    let key: String
    let account: Account
}

/// Figures only the I/O layer knows, refreshed once a second for `/stats`.
public struct ServerStats: Sendable {
    public var bytesQueued = 0
    public var uptimeSeconds = 0.0
    public var messagesPerSecond = 0.0
    public init() {}
}

/// Bounds on authentication.
public struct AuthLimits: Sendable {
    /// Password attempts (`/pass`, `/login`, `/register`, `/passwd`) per source (an IPv4
    /// address or an IPv6 /64, see `ClientAddress.attemptSource`): a burst of this many, then
    /// one per `attemptIntervalSeconds`, so guessing runs at human speed.
    public var attemptBurst = 5.0
    public var attemptIntervalSeconds = 3.0
    /// Wrong server passwords before the connection is closed.
    public var maxServerPasswordFailures = 3
    /// Passwords are 8 to 128 bytes.
    public var minPasswordBytes = 8
    public var maxPasswordBytes = 128
    /// Guests' checks (`/login`, `/register`) waiting for the hashing thread, all sources
    /// together: at tens of milliseconds a check, about 5 s of work (see `PasswordQueue`).
    public var maxQueuedChecks = 128
    /// Logged-in users' checks (`/passwd`) waiting in their own lane.
    public var maxQueuedPriorityChecks = 32
    /// Input the hub itself holds from a client while its password command is unanswered
    /// (see PasswordFlow+HeldInput.swift). Normally none: the I/O layer stops framing and reading the
    /// client and keeps its bytes. Only input framed regardless (everything at shutdown, a
    /// final partial line) reaches the hub meanwhile; this bounds it all the same, at twice
    /// the I/O layer's 64 KiB read.
    public var maxHeldInputBytes = 128 * 1024
    public init() {}
}
