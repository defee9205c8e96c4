/// What a protocol says about a new connection's first bytes (sslh-style detection): they are
/// its, they cannot be, or they are a prefix of its opening and more must be read to tell.
public enum ProtocolClaim: Sendable, Equatable {
    case mine
    case notMine
    case needMore

    /// Whether `prefix` begins with one of `openings` (`mine`), is a proper prefix of one
    /// (`needMore`), or neither (`notMine`): the usual test for a protocol that opens with a
    /// fixed word, such as an HTTP method or an IRC command.
    public static func opening(_ prefix: UnsafeRawBufferPointer, oneOf openings: [[UInt8]]) -> ProtocolClaim {
        var claim = ProtocolClaim.notMine
        for opening in openings {
            if prefix.count >= opening.count {
                if prefix.starts(with: opening) { return .mine }
            } else if opening.starts(with: prefix) {
                claim = .needMore
            }
        }
        return claim
    }
}
