/// One protocol's side in the hub: what a client gets when it connects and what its lines mean.
/// The I/O layer chooses a dialect per connection from its first bytes (protocol detection) and
/// hands it to `Hub.connect`; from then on every line the client sends goes to that dialect.
/// A dialect turns lines into calls on the hub and its command table; the hub's replies and
/// fan-out come back rendered in the client's `WireStyle`.
///
/// A new protocol adds a dialect file and one entry in `Dialects.all`, not a `case` in the hub.
protocol Dialect: Sendable {
    /// The wire style its clients start with.
    var style: WireStyle { get }
    /// Whether a new connection's first bytes are this protocol's (protocol detection). The
    /// native dialect, the fallback, claims nothing.
    func claim(_ prefix: UnsafeRawBufferPointer) -> ProtocolClaim
    /// The client has just been added to the hub (not yet in any room): greet it, or wait for
    /// it to register. Each dialect refuses a banned address here (`Hub.refuseIfAddressBanned`),
    /// after a greeting if it has one, so the refusal is worded in its protocol.
    func connected(_ id: ClientID, in hub: Hub)
    /// One complete, sanitised line from the client. `isFirstLine` is true once per connection.
    func receive(_ line: [UInt8], from id: ClientID, isFirstLine: Bool, admitted: Bool, in hub: Hub)
    /// How its lines are framed, when not as chatd's (IRC: longer lines for tags, CTCP's 0x01).
    var framing: LineFraming? { get }
}

extension Dialect {
    var framing: LineFraming? { nil }
}

/// A dialect's own framing rules, for the I/O layer to build the connection's `LineFramer` with.
public struct LineFraming: Sendable, Equatable {
    public let maxLineBytes: Int
    public let keepsCTCPMarker: Bool
}

/// Which dialect a client speaks: a small index into `Dialects.all`.
public struct DialectID: Hashable, Sendable {
    public let index: UInt8

    public init(index: UInt8) { self.index = index }

    var dialect: any Dialect { Dialects.all[Int(index)] }

    /// The dialect's framing rules; nil: chatd's (`--max-line-bytes`, every control byte dropped).
    public var framing: LineFraming? { dialect.framing }
}

/// Every dialect, at the position its `DialectID` names: the one list a new protocol adds to.
public enum Dialects {
    static let all: [any Dialect] = [NativeDialect(), HTTPDialect(), IRCDialect()]

    /// Most first bytes detection needs: every protocol's opening word is decided by then.
    public static let longestOpening = 16

    /// The protocol a new connection's first bytes choose: the first dialect that claims them,
    /// native when none can (or `longestOpening` bytes did not decide), nil while one still
    /// might and more bytes should be awaited.
    public static func detect(_ prefix: UnsafeRawBufferPointer) -> DialectID? {
        var undecided = false
        for index in all.indices where index != Int(DialectID.native.index) {
            switch all[index].claim(prefix) {
            case .mine: return DialectID(index: UInt8(index))
            case .needMore: undecided = true
            case .notMine: break
            }
        }
        return undecided && prefix.count < longestOpening ? nil : .native
    }
}
