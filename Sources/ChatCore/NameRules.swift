/// What a name or a room may be called. Both are ASCII-only on purpose: no homoglyphs, no
/// invisible or bidirectional characters, nothing a terminal interprets, and case-folding is
/// plain ASCII lowercasing, so "uniqueness" means the same thing to every client.
public enum NameRules {
    /// Longest name, in characters.
    public static let maxNameLength = 30
    /// Longest room name, in characters, including the leading `#`.
    public static let maxRoomLength = 50

    /// A name is 1–30 of `A–Z a–z 0–9 _ - . [ ] { } ^ |`, starting with a letter, so that it can
    /// never look like an address (`127.0.0.1:5555`), a room (`#x`) or a command (`/x`, `:x`).
    public static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.utf8.first, isLetter(first), name.utf8.count <= maxNameLength else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || "_-.[]{}^|".utf8.contains($0) }
    }

    /// A room is `#` followed by 1–49 of `A–Z a–z 0–9 _ - .`.
    public static func isValidRoom(_ room: Substring) -> Bool {
        let bytes = room.utf8
        guard bytes.first == UInt8(ascii: "#"), bytes.count >= 2, bytes.count <= maxRoomLength else { return false }
        return bytes.dropFirst().allSatisfy { isLetter($0) || isDigit($0) || "_-.".utf8.contains($0) }
    }

    /// Adds the `#` that the colon aliases and seed clients leave off.
    public static func roomName(_ text: Substring) -> String {
        text.hasPrefix("#") ? String(text) : "#" + text
    }

    /// The case-insensitive key of a name or room.
    public static func fold(_ text: String) -> String {
        String(decoding: text.utf8.map { isUpper($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    private static func isLetter(_ byte: UInt8) -> Bool { isUpper(byte) || (byte >= 0x61 && byte <= 0x7A) }
    private static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
