/// The operators file (`--operators-file`): one operator per line, `NAME HASH`, where HASH is
/// the Argon2id string `chatd hash-password` prints (libsodium's `crypto_pwhash_str`).
/// Blank lines and lines starting with `#` are ignored.
///
/// Operator accounts live here, outside the chat and outside the database, because they must
/// exist before any client does: a name listed as an operator is reserved from the start, so
/// nobody can register it first, and with `--no-history` (no database) it is still the
/// operator's after every restart. The password never appears on a command line or in the
/// file, only its salted hash.
public enum OperatorsFile {
    /// A line the file cannot mean anything by; nothing from the file is applied then.
    public struct Problem: Error, CustomStringConvertible {
        public let line: Int
        public let text: String
        public var description: String { "line \(line): \(text)" }
    }

    /// Operator accounts by folded name.
    public static func parse(_ text: String) throws -> [String: Account] {
        var operators: [String: Account] = [:]
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            let line = index + 1
            guard fields.count == 2 else { throw Problem(line: line, text: "expected NAME HASH (the hash from chatd hash-password)") }
            let name = String(fields[0])
            guard NameRules.isValidName(fields[0]) else { throw Problem(line: line, text: "\"\(Sanitizer.printable(name.prefix(40)))\" is not a valid name") }
            guard fields[1].hasPrefix("$argon2id$") else { throw Problem(line: line, text: "the hash for \(name) is not an Argon2id string from chatd hash-password") }
            let key = NameRules.fold(name)
            guard operators[key] == nil else { throw Problem(line: line, text: "\(name) is listed twice") }
            operators[key] = Account(name: name, hash: String(fields[1]))
        }
        return operators
    }
}
