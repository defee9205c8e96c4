
/// The text of a room's lines stored together: one SQLite row per room per commit, of at most
/// 96 KiB (`HistoryStore`), and in cluster mode one Redis stream entry per run of a room's lines
/// (`RoomLines.streamFields`).
///
/// Why not one row per line: at the fan-out benchmark's rate (about 100,000 lines a second) a
/// row per line costs SQLite 1.5–2.5 µs each (measured: an indexed insert, prepared, batched),
/// i.e. a sixth of a core taken from the reactor. A row per room per commit window costs the
/// same at human chat rates (one line per commit) and a few rows a second under a flood.
///
/// The body is plain text, one line per entry, readable with the sqlite3 shell:
/// `<milliseconds since the epoch> TAB <kind 0 say, 1 action, 2 topic> TAB <sender> TAB <text> LF`.
/// Text never holds LF (the framer splits on it) and sender names never hold TAB.
public enum HistoryChunk {
    /// Appends one line's body to `body` (a reused buffer). Fields are read in place rather
    /// than copied out, which would retain and release their storage.
    public static func encode(_ entry: borrowing HistoryEntry, into body: inout [UInt8]) {
        DecimalText.append(milliseconds(entry.at), to: &body)
        encodeAfterTime(entry, into: &body)
    }

    /// `encode` with the time's digits already made (`Stamp`): lines said in one loop iteration
    /// share the loop's clock, so a flood's lines share their digits.
    public static func encode(_ entry: borrowing HistoryEntry, stamp: inout Stamp, into body: inout [UInt8]) {
        let milliseconds = milliseconds(entry.at)
        if milliseconds != stamp.milliseconds {
            stamp.milliseconds = milliseconds
            stamp.digits.removeAll(keepingCapacity: true)
            DecimalText.append(milliseconds, to: &stamp.digits)
        }
        body.append(contentsOf: stamp.digits)
        encodeAfterTime(entry, into: &body)
    }

    /// The digits of the last time encoded, kept by the encoder's owner.
    public struct Stamp: Sendable {
        var milliseconds = Int64.min
        var digits: [UInt8] = []
        public init() {}
    }

    private static func milliseconds(_ at: Double) -> Int64 { Int64((at * 1000).rounded()) }

    private static func encodeAfterTime(_ entry: borrowing HistoryEntry, into body: inout [UInt8]) {
        body.append(0x09)
        body.append(UInt8(ascii: "0") + UInt8(entry.kind.rawValue))
        body.append(0x09)
        body.append(contentsOf: entry.sender.utf8)
        body.append(0x09)
        body.append(contentsOf: entry.text)
        body.append(0x0A)
    }

    public static func encode(_ entries: [HistoryEntry]) -> [UInt8] {
        var body: [UInt8] = []
        for entry in entries { encode(entry, into: &body) }
        return body
    }

    /// The entries of a stored body; a malformed line (a hand-edited file) is skipped, and
    /// text is re-sanitised, since the file is outside chatd's control. A time outside the
    /// years 0000–9999 (`Timestamp`) is malformed too.
    public static func decode(_ body: [UInt8], room: String) -> [HistoryEntry] {
        var entries: [HistoryEntry] = []
        for line in body.split(separator: 0x0A, omittingEmptySubsequences: true) {
            let fields = line.split(separator: 0x09, maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4,
                  let milliseconds = Int64(String(decoding: fields[0], as: UTF8.self)),
                  fields[1].count == 1, let digit = fields[1].first,
                  let kind = HistoryEntry.Kind(rawValue: Int(digit) - Int(UInt8(ascii: "0"))),
                  !fields[2].isEmpty
            else { continue }
            let at = Double(milliseconds) / 1000
            guard at >= Timestamp.earliest && at <= Timestamp.latest else { continue }
            var text = Array(fields[3]).filter { $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }
            guard Sanitizer.validateAndStripC1(&text) else { continue }
            let sender = Sanitizer.printable(Substring(String(decoding: fields[2], as: UTF8.self)))
            entries.append(HistoryEntry(room: room, at: at, kind: kind, sender: sender, text: text))
        }
        return entries
    }
}
