/// A connected client's slot number. Slots are reused after a client leaves, so an ID is only
/// meaningful while that client is connected; the I/O layer's connection table owns the mapping.
public struct ClientID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let index: Int32

    public init(_ index: Int) {
        precondition(index >= 0 && index < Int(Int32.max), "client slot out of range")
        self.index = Int32(index)
    }

    public static func < (lhs: ClientID, rhs: ClientID) -> Bool { lhs.index < rhs.index }
    public var description: String { "client#\(index)" }
}
