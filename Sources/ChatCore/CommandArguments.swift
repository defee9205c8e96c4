/// One slot of a command's argument shape, in the order the native syntax reads them.
struct Parameter: Sendable {
    enum Kind: Sendable, Equatable {
        /// One word, as text.
        case word
        /// One word made a room name (`dev` → `#dev`).
        case room
        /// One word that must start with `#`; an optional one is only taken when it does
        /// (`/part bye` is a reason, `/part #dev bye` a room and a reason).
        case hashRoom
        /// One word, as bytes (passwords: never made a `String`).
        case secret
        /// The rest of the line, as bytes (chat text, relayed as sent).
        case message
        /// The rest of the line, as text (reasons, topics).
        case text
        /// A whole number.
        case count
        /// `90s`, `30m`, `2h`, `7d` or bare seconds, at most `maxBanSeconds`.
        case duration
    }

    /// As shown in usage (`NAME`, `#room`, `text`).
    let name: String
    let kind: Kind
    let isOptional: Bool

    static func word(_ name: String) -> Parameter { Parameter(name: name, kind: .word, isOptional: false) }
    static func optionalWord(_ name: String) -> Parameter { Parameter(name: name, kind: .word, isOptional: true) }
    static let room = Parameter(name: "#room", kind: .room, isOptional: false)
    static let optionalRoom = Parameter(name: "#room", kind: .room, isOptional: true)
    static let hashRoom = Parameter(name: "#room", kind: .hashRoom, isOptional: false)
    static let optionalHashRoom = Parameter(name: "#room", kind: .hashRoom, isOptional: true)
    static func secret(_ name: String) -> Parameter { Parameter(name: name, kind: .secret, isOptional: false) }
    static func message(_ name: String) -> Parameter { Parameter(name: name, kind: .message, isOptional: false) }
    static func text(_ name: String) -> Parameter { Parameter(name: name, kind: .text, isOptional: false) }
    static func optionalText(_ name: String) -> Parameter { Parameter(name: name, kind: .text, isOptional: true) }
    static let optionalCount = Parameter(name: "n", kind: .count, isOptional: true)
    static let optionalDuration = Parameter(name: "duration", kind: .duration, isOptional: true)

    var shown: String { isOptional ? "[\(name)]" : name }

    /// How a malformed value is described in the usage error.
    var shownWhenMalformed: String {
        guard kind == .duration else { return shown }
        return "[duration: 90s, 30m, 2h, 7d; at most \(Int(Self.maxBanSeconds / 86_400))d]"
    }

    /// The longest server ban with a duration (10 years); longer is a ban until lifted.
    static let maxBanSeconds = Bounded.maxSeconds

    /// `90s`, `30m`, `2h`, `7d` (a bare number is seconds) → seconds; nil if malformed, not
    /// positive or longer than `maxBanSeconds`. The digits are plain decimal (`Bounded`), so
    /// `1e300s`, `infd` and `0x10m` are malformed rather than dates beyond the calendar.
    static func duration(_ text: Substring) -> Double? {
        guard let unit = text.last else { return nil }
        let scale: Double
        var digits = text.dropLast()
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        default:
            scale = 1
            digits = text
        }
        guard let value = Bounded.seconds(to: maxBanSeconds).value(digits) else { return nil }
        let seconds = value * scale
        return seconds > 0 && seconds <= maxBanSeconds ? seconds : nil
    }
}

/// One parsed argument. Optional slots left out are `.absent`, so every entry's handler reads
/// its arguments by position whatever syntax filled them.
public enum CommandArgument: Equatable, Sendable {
    case text(String)
    case bytes(ArraySlice<UInt8>)
    case number(Int)
    case seconds(Double)
    case absent
}

/// A command's arguments, by the position of their parameter.
public struct Arguments: Equatable, Sendable {
    var values: [CommandArgument]

    init(_ values: [CommandArgument]) { self.values = values }

    private func value(_ index: Int) -> CommandArgument { index < values.count ? values[index] : .absent }

    /// Text at `index`, nil when left out.
    func text(_ index: Int) -> String? {
        if case .text(let text) = value(index) { return text }
        return nil
    }

    /// Text at a required slot (the parser never leaves one out).
    func word(_ index: Int) -> String { text(index) ?? "" }

    func bytes(_ index: Int) -> ArraySlice<UInt8> {
        if case .bytes(let bytes) = value(index) { return bytes }
        return []
    }

    func number(_ index: Int) -> Int? {
        if case .number(let number) = value(index) { return number }
        return nil
    }

    func seconds(_ index: Int) -> Double? {
        if case .seconds(let seconds) = value(index) { return seconds }
        return nil
    }
}

extension [Parameter] {
    func usage(command: String, malformed: Int? = nil) -> String {
        ([command] + enumerated().map { $0.offset == malformed ? $0.element.shownWhenMalformed : $0.element.shown })
            .joined(separator: " ")
    }

    /// Reads `rest` slot by slot into `make`; a missing, malformed or extra word is a usage
    /// error instead.
    /// `usage` is only made when it is needed: a command that parses costs no string work.
    func parse(_ rest: Substring, usage: @autoclosure () -> String, ignoresExtra: Bool = false, _ make: (Arguments) -> Command) -> Command {
        var values: [CommandArgument] = []
        values.reserveCapacity(count)
        var rest = rest
        for (index, parameter) in enumerated() {
            let (word, after) = CommandParser.splitWord(rest)
            let value: CommandArgument
            switch parameter.kind {
            case .message, .text:
                let whole = rest.drop { $0 == " " || $0 == "\t" }
                if whole.isEmpty {
                    value = .absent
                } else {
                    value = parameter.kind == .message ? .bytes(ArraySlice(whole.utf8)) : .text(String(whole))
                }
                rest = ""
            case .hashRoom where !word.hasPrefix("#"):
                value = .absent
                if !parameter.isOptional { return CommandParser.usage(usage()) }
            default:
                guard !word.isEmpty else {
                    value = .absent
                    break
                }
                switch parameter.kind {
                case .room: value = .text(NameRules.roomName(word))
                case .secret: value = .bytes(ArraySlice(word.utf8))
                case .count:
                    guard let number = Int(word) else { return CommandParser.usage(usage()) }
                    value = .number(number)
                case .duration:
                    guard let seconds = Parameter.duration(word) else {
                        return CommandParser.usage(self.usage(command: String(usage().prefix { $0 != " " }), malformed: index))
                    }
                    value = .seconds(seconds)
                default: value = .text(String(word))
                }
                rest = after
            }
            if value == .absent && !parameter.isOptional { return CommandParser.usage(usage()) }
            values.append(value)
        }
        if !ignoresExtra && !rest.drop(while: { $0 == " " || $0 == "\t" }).isEmpty { return CommandParser.usage(usage()) }
        return make(Arguments(values))
    }
}
