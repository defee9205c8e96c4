/// What the server says to a client, before rendering. The hub decides *what* to say; a
/// `WireStyle` decides *how it looks* on a given connection.
public enum Outgoing {
    /// A line said in a room.
    case chat(room: String, from: String, text: ArraySlice<UInt8>)
    /// `/me` in a room.
    case action(room: String, from: String, text: ArraySlice<UInt8>)
    /// A private message to the recipient.
    case privateMessage(from: String, text: ArraySlice<UInt8>)
    /// Something that happened, shown to the people concerned.
    case notice(Notice)
    /// One line of a command's reply. `final` is false on all but the last line of a multi-line
    /// reply (SMTP's `250-`/`250 ` convention), so a script reads until a final line.
    case reply(command: String, text: String, final: Bool)
    /// A command failed, or the server refused something the client sent.
    case error(ErrorCode, String)
    /// A line from a room's history, replayed: marked and timestamped so it cannot pass for
    /// a live line.
    case history(HistoryEntry)
    /// Raw protocol bytes (telnet negotiation answers); never rendered.
    case raw([UInt8])
}

/// Events announced with a notice.
public enum Notice {
    case welcome(name: String, room: String, maxLineBytes: Int)
    case joined(name: String, room: String)
    case left(name: String, room: String, reason: String?)
    case renamed(old: String, new: String, firstName: Bool)
    case quit(name: String, reason: String)
    case topic(room: String, by: String, text: String)
    /// `name` was removed from `room` by `by` (a kick or a room ban); `toVictim` on the copy
    /// the removed member gets (IRC renders both as the same KICK line).
    case kicked(room: String, name: String, by: String, reason: String, toVictim: Bool)
    case server(String)
}
