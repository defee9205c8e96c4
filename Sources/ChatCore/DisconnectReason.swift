/// Why a client left, as a small closed set an operator can graph and alarm on
/// (`chatd_disconnects_total{reason=…}`). The human text rooms see ("connection lost", a
/// `/quit` reason) is separate: it is free text and must never become a metric label.
public enum DisconnectReason: Int, CaseIterable, Sendable {
    /// `/quit` (or `LEAVE:`), including a quitter whose output was not read within the linger time.
    case quit
    /// The client closed its side (EOF) after everything it sent was answered.
    case closed
    /// The socket failed: reset by the peer, or a read or write error.
    case reset
    /// Idle or unfinished-line timeout.
    case timeout
    /// Held back by flood control for too long.
    case flood
    /// Too many rejected lines in a row.
    case junk
    /// Its first line was an HTTP request.
    case http
    /// Its unsent output passed the hard limit, or the soft limit for too long, or the global
    /// client-memory budget cut it.
    case outputLimit
    /// `/kill` by an operator.
    case killed
    /// A server ban covers it (at connect, or when the ban was set).
    case banned
    /// Too many wrong server passwords.
    case badPassword
    /// The server shut down.
    case shutdown

    /// The label value: snake_case, stable once released (dashboards and alerts match on it).
    public var label: String {
        switch self {
        case .quit: "quit"
        case .closed: "closed"
        case .reset: "reset"
        case .timeout: "timeout"
        case .flood: "flood"
        case .junk: "junk"
        case .http: "http"
        case .outputLimit: "output_limit"
        case .killed: "killed"
        case .banned: "banned"
        case .badPassword: "bad_password"
        case .shutdown: "shutdown"
        }
    }

    /// The reason behind an error a client is expelled with (`Hub.expel`).
    public init(expelledWith code: ErrorCode) {
        switch code {
        case .flood: self = .flood
        case .idle, .lineTimeout: self = .timeout
        case .junk, .lineTooLong, .invalidUTF8: self = .junk
        case .notChat: self = .http
        case .outputLimit: self = .outputLimit
        case .killed: self = .killed
        case .banned: self = .banned
        case .badPassword: self = .badPassword
        default: self = .reset
        }
    }
}

/// A counter per `DisconnectReason`: a fixed array indexed by the reason, so counting a
/// departure is one add, with no hashing.
public struct DisconnectCounts: Sendable {
    private var counts = [UInt64](repeating: 0, count: DisconnectReason.allCases.count)

    public init() {}

    public subscript(reason: DisconnectReason) -> UInt64 {
        get { counts[reason.rawValue] }
        set { counts[reason.rawValue] = newValue }
    }

    /// Departures of every reason.
    public var total: UInt64 { counts.reduce(0, &+) }
}
