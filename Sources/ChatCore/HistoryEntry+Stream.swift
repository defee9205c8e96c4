/// A room's history as Redis stream entries (cluster mode: `chatd:history:<room>`). One entry
/// holds the lines one node added to the room in one loop iteration, so a flood costs Redis
/// one append per iteration, not one per line: `r` the room's display name, `n` how many
/// lines, `b` the lines in the same text the SQLite store keeps (`HistoryChunk`: milliseconds,
/// kind, sender, text, one line each). Entries of one line each (`r`, `k`, `s`, `t`, `x`: what
/// the first cluster version wrote) are still read. The stream's entry IDs order the entries.
/// Reading back checks every field, more strictly than the store reads its own file: a stream
/// is shared by every node and read as untrusted input, so a malformed line is left out rather
/// than repaired.
extension RoomLines {
    /// The XADD field-value pairs of the stream entry holding this run.
    public var streamFields: [[UInt8]] {
        [Array("r".utf8), Array(room.utf8), Array("n".utf8), Array(String(lines).utf8), Array("b".utf8), body]
    }
}

extension HistoryEntry {
    static let lineSeparator: UInt8 = 0x0A
    static let tab: UInt8 = 0x09

    /// The XADD field-value pairs of one entry holding `entries` (all of one room, in order).
    public static func streamFields(_ entries: some Collection<HistoryEntry>) -> [[UInt8]] {
        entries.isEmpty ? [] : RoomLines(entries).streamFields
    }

    /// The lines of one stream entry's field-value pairs, oldest first (`room` when it names
    /// none); malformed lines are left out, a malformed entry gives none.
    public static func lines(room: String, streamFields fields: [[UInt8]]) -> [HistoryEntry] {
        var named: String?, batch: [UInt8]?, kind: [UInt8]?, sender: [UInt8]?, at: [UInt8]?, text: [UInt8]?
        var index = 0
        while index + 1 < fields.count {
            let value = fields[index + 1]
            switch fields[index] {
            case Array("r".utf8): named = String(validating: value, as: UTF8.self).flatMap { NameRules.isValidRoom(Substring($0)) ? $0 : nil }
            case Array("b".utf8): batch = value
            case Array("k".utf8): kind = value
            case Array("s".utf8): sender = value
            case Array("t".utf8): at = value
            case Array("x".utf8): text = value
            default: break
            }
            index += 2
        }
        let room = named ?? room
        if let batch {
            var entries: [HistoryEntry] = []
            for line in batch.split(separator: lineSeparator) {
                let parts = line.split(separator: tab, maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count == 4, let milliseconds = Int64(String(decoding: parts[0], as: UTF8.self)),
                      let entry = validated(room: room, kind: parts[1], sender: parts[2], at: Double(milliseconds) / 1000, text: parts[3]) else { continue }
                entries.append(entry)
            }
            return entries
        }
        guard let kind, let sender, let text, let at = at.flatMap({ String(validating: $0, as: UTF8.self) }).flatMap(Double.init),
              let entry = validated(room: room, kind: kind[...], sender: sender[...], at: at, text: text[...]) else { return [] }
        return [entry]
    }

    /// A line from its stored fields, or nil: an unknown kind, a sender that is neither a name
    /// nor an address, a time outside the years `Timestamp` can show, control characters in
    /// the text.
    private static func validated(room: String, kind: ArraySlice<UInt8>, sender: ArraySlice<UInt8>, at: Double,
                                  text: ArraySlice<UInt8>) -> HistoryEntry? {
        guard let kind = String(validating: kind, as: UTF8.self).flatMap(Int.init).flatMap(Kind.init(rawValue:)),
              let sender = String(validating: sender, as: UTF8.self),
              at >= Timestamp.earliest && at <= Timestamp.latest,
              NameRules.isValidName(Substring(sender)) || (sender.contains(":") && !sender.contains(where: { $0 == " " || $0 == "\t" })),
              String(validating: text, as: UTF8.self) != nil,
              !text.contains(where: { ($0 < 0x20 && $0 != tab) || $0 == 0x7F }) else { return nil }
        return HistoryEntry(room: room, at: at, kind: kind, sender: sender, text: Array(text))
    }
}
