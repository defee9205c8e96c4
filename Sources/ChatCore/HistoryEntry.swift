/// One line worth keeping in a room's history: what was said (or the topic set), by whom, when.
/// Text is already sanitised; it is stored and replayed as it was fanned out.
public struct HistoryEntry: Sendable, Equatable {
    public enum Kind: Int, Sendable {
        case chat = 0
        case action = 1
        case topic = 2
    }

    /// The room's display name.
    public var room: String
    /// Seconds since the Unix epoch (the loop's clock when the line was received).
    public var at: Double
    public var kind: Kind
    public var sender: String
    public var text: [UInt8]

    public init(room: String, at: Double, kind: Kind, sender: String, text: [UInt8]) {
        self.room = room
        self.at = at
        self.kind = kind
        self.sender = sender
        self.text = text
    }
}
