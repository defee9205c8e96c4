/// Every bound the pure core enforces, in one place so the CLI can expose each of them and the
/// README can list their defaults. Hitting any of them is reported to the client by a one-line
/// error; none of them ever closes anyone but the client that hit it.
public struct ChatLimits: Sendable, Equatable {
    /// Longest line a client may send, in bytes after telnet commands and control bytes are
    /// stripped. Longer lines are dropped whole (see `LineFramer`).
    public var maxLineBytes: Int = 4096
    /// Rooms larger than this get no join/part/rename/quit notices: each notice costs O(members),
    /// so notices while a 20,000-member room fills would cost O(n^2). `/who` still answers.
    public var noticeRoomLimit: Int = 1000
    /// How many rooms one client may be in at once (bounds per-client memory and notice fan-out).
    public var maxRoomsPerClient: Int = 50
    /// Most rooms on the server at once: bounds room memory and what `/rooms` indexes. A join
    /// that would create one more is refused (existing rooms stay joinable).
    public var maxRooms: Int = 10_000
    /// Longest topic, in bytes (UTF-8). Stored and relayed text is limited in bytes, never in
    /// characters: one letter plus 1,300 combining accents is one character and 2,601 bytes.
    public var maxTopicBytes: Int = 300
    /// Longest away message, in bytes: it is kept for the life of the connection and shown to
    /// everyone who messages or looks up the client.
    public var maxAwayBytes: Int = 300
    /// Longest reason for `/part`, `/kick` and `/kill`, in bytes (relayed to the room or the
    /// victim). A `/quit` reason is cut to this rather than refused: leaving always works.
    public var maxReasonBytes: Int = 300
    /// Most names listed by one `/who` or `/users` reply; larger rooms are summarised.
    public var maxListedNames: Int = 500

    /// Rejected lines in a row (too long, not UTF-8) after which a client is disconnected: it
    /// is sending binary junk, not chat.
    public var maxRejectedLinesInARow: Int = 10

    public init() {}
}
