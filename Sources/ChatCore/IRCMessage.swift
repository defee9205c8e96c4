/// One IRC protocol message: `[@tags] [:source] COMMAND [params…] [:trailing]`
/// (modern.ircdocs.horse "Message format", RFC 2812 §2.3.1, IRCv3 message-tags).
///
/// Parsing never traps on any input: every byte sequence either parses, is ignored as empty, or
/// is reported as too long. Bounds (both named, both from the specifications):
/// - the part after the tags may be at most `maxBodyBytes` (512 including the CR LF the framer
///   already removed, so 510 here);
/// - the tag section, `@` and its closing space included, at most `maxTagBytes` (8191).
/// A line over either bound is refused whole (the caller answers 417 ERR_INPUTTOOLONG), as
/// chatd drops overlong native lines whole.
///
/// Parameters are kept as `String`: the framer has already validated the line as UTF-8, and a
/// caller that needs bytes (a PRIVMSG's text) takes `.utf8` of one parameter.
public struct IRCMessage: Equatable, Sendable {
    /// One `key[=value]` tag, value unescaped. Client-only tags (`+key`) are parsed and then
    /// ignored by chatd (message-tags allows a server to drop them).
    public struct Tag: Equatable, Sendable {
        public var key: String
        public var value: String

        public init(_ key: String, _ value: String = "") {
            self.key = key
            self.value = value
        }
    }

    public var tags: [Tag]
    /// The prefix without its colon (`nick!user@host` or a server name); nil when absent.
    public var source: String?
    /// Upper-cased command word or three-digit numeric.
    public var command: String
    public var params: [String]

    public init(tags: [Tag] = [], source: String? = nil, _ command: String, _ params: [String] = []) {
        self.tags = tags
        self.source = source
        self.command = command
        self.params = params
    }

    /// Longest message body, excluding tags, including the CR LF: RFC 1459's 512.
    public static let maxBodyBytes = 512
    /// Longest tag section including the leading `@` and the trailing space (message-tags).
    public static let maxTagBytes = 8191
    /// Most parameters a message carries (RFC 2812: 14 middle plus one trailing); a 15th
    /// parameter swallows the rest of the line, spaces included.
    public static let maxParameters = 15
    /// The longest line `parse` can accept, for sizing the framer of an IRC connection.
    public static let maxLineBytes = maxTagBytes + maxBodyBytes

    /// What `parse` found.
    public enum Parsed: Equatable, Sendable {
        case message(IRCMessage)
        /// Nothing but spaces, tags or a source: silently ignored (RFC 2812 §2.3.1).
        case empty
        /// Over `maxBodyBytes` or `maxTagBytes`: answer 417 and drop it.
        case tooLong
    }

    /// Parses one line without its line ending.
    public static func parse<Bytes: Collection<UInt8>>(_ line: Bytes) -> Parsed {
        let bytes = Array(line)
        var index = 0
        let end = bytes.count
        var tags: [Tag] = []
        if index < end && bytes[index] == UInt8(ascii: "@") {
            let tagEnd = bytes[index...].firstIndex(of: 0x20) ?? end
            // The tag section counts its '@' and the space after it.
            if tagEnd - index + 1 > maxTagBytes { return .tooLong }
            tags = parseTags(bytes[(index + 1)..<tagEnd])
            index = tagEnd
        }
        index = skipSpaces(bytes, from: index)
        // The body is measured from here, with the CR LF the framer removed counted back in.
        if end - index + 2 > maxBodyBytes { return .tooLong }
        var source: String?
        if index < end && bytes[index] == UInt8(ascii: ":") {
            let sourceEnd = bytes[index...].firstIndex(of: 0x20) ?? end
            source = String(decoding: bytes[(index + 1)..<sourceEnd], as: UTF8.self)
            index = skipSpaces(bytes, from: sourceEnd)
        }
        let commandEnd = bytes[index...].firstIndex(of: 0x20) ?? end
        guard commandEnd > index else { return .empty }
        let command = String(decoding: bytes[index..<commandEnd].map { asciiUpper($0) }, as: UTF8.self)
        index = commandEnd
        var params: [String] = []
        while true {
            index = skipSpaces(bytes, from: index)
            guard index < end else { break }
            if bytes[index] == UInt8(ascii: ":") || params.count == maxParameters - 1 {
                let start = bytes[index] == UInt8(ascii: ":") ? index + 1 : index
                params.append(String(decoding: bytes[start..<end], as: UTF8.self))
                break
            }
            let paramEnd = bytes[index...].firstIndex(of: 0x20) ?? end
            params.append(String(decoding: bytes[index..<paramEnd], as: UTF8.self))
            index = paramEnd
        }
        return .message(IRCMessage(tags: tags, source: source, command, params))
    }

    /// `key=value;key2;…`: empty keys are skipped; values are unescaped (`\:` `;`, `\s` space,
    /// `\\` `\`, `\r` CR, `\n` LF, any other `\x` is `x`, a lone trailing `\` is dropped).
    private static func parseTags(_ section: ArraySlice<UInt8>) -> [Tag] {
        var tags: [Tag] = []
        for item in section.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: true) {
            let equals = item.firstIndex(of: UInt8(ascii: "="))
            let key = String(decoding: item[item.startIndex..<(equals ?? item.endIndex)], as: UTF8.self)
            guard !key.isEmpty else { continue }
            let value = equals.map { unescapeTagValue(item[($0 + 1)...]) } ?? ""
            tags.append(Tag(key, value))
        }
        return tags
    }

    static func unescapeTagValue(_ raw: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var escaped = false
        for byte in raw {
            if escaped {
                switch byte {
                case UInt8(ascii: ":"): out.append(UInt8(ascii: ";"))
                case UInt8(ascii: "s"): out.append(0x20)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "n"): out.append(0x0A)
                default: out.append(byte)
                }
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The inverse of `unescapeTagValue`.
    static func appendEscapedTagValue(_ value: String, to out: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: ";"): out.append(contentsOf: "\\:".utf8)
            case 0x20: out.append(contentsOf: "\\s".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            default: out.append(byte)
            }
        }
    }

    /// Appends the wire form, CR LF included. The last parameter gets a colon when it needs one
    /// (empty, starts with `:`, or holds a space); a middle parameter that would need one is
    /// the caller's bug and is written without its spaces and leading colons (`*` if nothing is
    /// left), so a line can never gain
    /// parameters it did not have. CR, LF and NUL never reach the wire (they would end or
    /// forge a line).
    public func serialize(into out: inout [UInt8]) {
        if !tags.isEmpty {
            out.append(UInt8(ascii: "@"))
            for (position, tag) in tags.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ";")) }
                out.append(contentsOf: tag.key.utf8.filter { Self.isSafeWordByte($0) && $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: "=") })
                if !tag.value.isEmpty {
                    out.append(UInt8(ascii: "="))
                    Self.appendEscapedTagValue(tag.value, to: &out)
                }
            }
            out.append(0x20)
        }
        if let source {
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: source.utf8.filter(Self.isSafeWordByte))
            out.append(0x20)
        }
        out.append(contentsOf: command.utf8.filter(Self.isSafeWordByte))
        for (position, param) in params.enumerated() {
            out.append(0x20)
            if position == params.count - 1 {
                if param.isEmpty || param.utf8.first == UInt8(ascii: ":") || param.utf8.contains(0x20) { out.append(UInt8(ascii: ":")) }
                out.append(contentsOf: param.utf8.filter { !Self.isLineBreaking($0) })
            } else {
                var safe = param.utf8.filter(Self.isSafeWordByte)
                while safe.first == UInt8(ascii: ":") { safe.removeFirst() }
                out.append(contentsOf: safe.isEmpty ? [UInt8(ascii: "*")] : safe)
            }
        }
        out.append(contentsOf: [0x0D, 0x0A])
    }

    /// The wire form as bytes, CR LF included.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        serialize(into: &out)
        return out
    }

    private static func isLineBreaking(_ byte: UInt8) -> Bool { byte == 0x0D || byte == 0x0A || byte == 0 }
    private static func isSafeWordByte(_ byte: UInt8) -> Bool { byte != 0x20 && !isLineBreaking(byte) }

    private static func skipSpaces(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while index < bytes.count && bytes[index] == 0x20 { index += 1 }
        return index
    }

    private static func asciiUpper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }
}

extension IRCMessage {
    /// The value of tag `key`, if present.
    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }
}
