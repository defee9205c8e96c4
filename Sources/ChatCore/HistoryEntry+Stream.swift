/// A history line as a Redis stream entry (cluster mode: `chatd:history:<room>`), field by
/// field: `r` the room's display name, `k` kind, `s` sender, `t` seconds since the epoch, `x`
/// the text (binary-safe). The stream's entry ID orders the lines. Reading back checks every
/// field: a stream is shared by every node and read as untrusted input.
extension HistoryEntry {
    /// The XADD field-value pairs.
    public var streamFields: [[UInt8]] {
        [Array("r".utf8), Array(room.utf8), Array("k".utf8), Array(String(kind.rawValue).utf8), Array("s".utf8), Array(sender.utf8),
         Array("t".utf8), Array(String(at).utf8), Array("x".utf8), text]
    }

    /// Rebuilds a line from a stream entry's field-value pairs (`room` when it names none);
    /// nil when a field is missing or malformed (unknown kind, a sender that is neither a name nor an address,
    /// control characters in the text).
    public init?(room: String, streamFields fields: [[UInt8]]) {
        var kind: Kind?, sender: String?, at: Double?, text: [UInt8]?, named: String?
        var index = 0
        while index + 1 < fields.count {
            let value = fields[index + 1]
            switch fields[index] {
            case Array("r".utf8): named = String(validating: value, as: UTF8.self).flatMap { NameRules.isValidRoom(Substring($0)) ? $0 : nil }
            case Array("k".utf8): kind = String(validating: value, as: UTF8.self).flatMap(Int.init).flatMap(Kind.init(rawValue:))
            case Array("s".utf8): sender = String(validating: value, as: UTF8.self)
            case Array("t".utf8): at = String(validating: value, as: UTF8.self).flatMap(Double.init)
            case Array("x".utf8): text = value
            default: break
            }
            index += 2
        }
        guard let kind, let sender, let at, at.isFinite, let text,
              NameRules.isValidName(Substring(sender)) || (sender.contains(":") && !sender.contains(where: { $0 == " " || $0 == "\t" })),
              String(validating: text, as: UTF8.self) != nil,
              !text.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else { return nil }
        self.init(room: named ?? room, at: at, kind: kind, sender: sender, text: text)
    }
}
