/// A number that comes from outside the process — a command-line option, a `CHATD_*` variable,
/// a `--config` line, a client's command — read into a documented range, or refused with the
/// range as the reason.
///
/// Why one gate: `Int(x)` traps when `x` is infinite, NaN or beyond `Int.max`, and `Double`
/// happily reads "inf", "nan", "1e300" and "0x10". So every outside number goes through here
/// first, and whatever comes out is finite, within a maximum far below 2^53 (exact as a
/// `Double`, fits an `Int`) and safe to convert, to add to a clock or to render as a date.
///
/// Accepted text is plain decimal: digits, with at most one `.` where fractions are allowed.
/// No sign, exponent, hex, `inf` or `nan`: `-0`, `1e3` and `0x10` are refused, not guessed at.
public struct Bounded: Sendable, Equatable {
    public let minimum: Double
    public let maximum: Double
    /// Counts and byte sizes take whole numbers only; seconds, rates and days take fractions.
    public let wholeNumber: Bool
    /// What the number counts ("seconds", "bytes"); empty for a plain count.
    public let unit: String
    /// A human reading of the maximum for the refusal, e.g. "10 years"; empty for none.
    public let maximumNote: String

    /// The longest duration anything accepts: 10 years (315,360,000 s). Far beyond any sensible
    /// timeout or ban, and small enough that `now + it` is an ordinary date.
    public static let maxSeconds: Double = 10 * 365 * 86_400
    /// The largest byte size: 1 TiB.
    public static let maxBytes: Double = 1_099_511_627_776
    /// The largest count: `Int32.max`, so a count fits any C `int` it may be handed to.
    public static let maxCount = Double(Int32.max)
    /// The highest rate, in lines (or events) per second.
    public static let maxRate: Double = 1_000_000
    /// The longest text read as a number: more digits than any accepted value needs.
    public static let maxTextLength = 32

    /// `minimum` and `maximum` are chatd's own constants, never outside input: a range that is
    /// not finite, not ordered or beyond 2^53 is a bug here, hence the precondition.
    public init(_ minimum: Double, _ maximum: Double, unit: String = "", wholeNumber: Bool, maximumNote: String = "") {
        precondition(minimum >= 0 && minimum <= maximum && maximum <= 9_007_199_254_740_992, "bad range \(minimum)...\(maximum)")
        self.minimum = minimum
        self.maximum = maximum
        self.unit = unit
        self.wholeNumber = wholeNumber
        self.maximumNote = maximumNote
    }

    /// Seconds, fractions allowed, at most `maxSeconds` unless a smaller maximum is given.
    public static func seconds(from minimum: Double = 0, to maximum: Double = maxSeconds) -> Bounded {
        Bounded(minimum, maximum, unit: "seconds", wholeNumber: false, maximumNote: maximum == maxSeconds ? "10 years" : "")
    }

    /// Whole bytes, at most `maxBytes` unless a smaller maximum is given.
    public static func bytes(from minimum: Double = 0, to maximum: Double = maxBytes) -> Bounded {
        Bounded(minimum, maximum, unit: "bytes", wholeNumber: true, maximumNote: maximum == maxBytes ? "1 TiB" : "")
    }

    /// A whole count, at most `maxCount` unless a smaller maximum is given.
    public static func count(from minimum: Double = 0, to maximum: Double = maxCount) -> Bounded {
        Bounded(minimum, maximum, wholeNumber: true)
    }

    /// Whether an already-numeric value (a database row, a sum) is finite and in range. NaN is not.
    public func contains(_ number: Double) -> Bool {
        number.isFinite && number >= minimum && number <= maximum
    }

    /// The number `text` spells, or nil if it is not plain decimal within the range.
    public func value(_ text: some StringProtocol) -> Double? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= Self.maxTextLength else { return nil }
        var digits = 0
        var points = 0
        for byte in utf8 {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits += 1
            } else if byte == UInt8(ascii: ".") {
                points += 1
            } else {
                return nil
            }
        }
        guard digits > 0, points <= (wholeNumber ? 0 : 1), let number = Double(String(text)), contains(number) else { return nil }
        return number
    }

    /// `value(text)` as an `Int` (a fraction is cut off): exact and trap-free, since the range
    /// is finite and below 2^53.
    public func intValue(_ text: some StringProtocol) -> Int? {
        value(text).map { Int($0) }
    }

    /// `value(text)`, or `OutOfBounds` saying what was expected. The signature fits
    /// ArgumentParser's `transform:`, so an option and a config key share one check.
    public func parse(_ text: String) throws -> Double {
        guard let number = value(text) else { throw OutOfBounds(expected: expectation) }
        return number
    }

    /// `intValue(text)`, or `OutOfBounds`.
    public func parseInt(_ text: String) throws -> Int {
        guard let number = intValue(text) else { throw OutOfBounds(expected: expectation) }
        return number
    }

    /// "a whole number of bytes from 0 to 1099511627776 (1 TiB)": what an acceptable value looks like.
    public var expectation: String {
        let kind = wholeNumber ? "a whole number" : "a number"
        let of = unit.isEmpty ? "" : " of \(unit)"
        let note = maximumNote.isEmpty ? "" : " (\(maximumNote))"
        return "\(kind)\(of) from \(Self.decimal(minimum)) to \(Self.decimal(maximum))\(note)"
    }

    /// `1000000`, not `1e+06`; `0.1` stays `0.1`. Only ever given the range's own bounds.
    public static func decimal(_ number: Double) -> String {
        number == number.rounded(.down) ? String(Int(number)) : String(number)
    }
}

/// A refused outside number. Its text is the expected range; the caller names the value and
/// where it came from (ArgumentParser prints "The value 'x' is invalid for '--option': …").
public struct OutOfBounds: Error, CustomStringConvertible, Equatable {
    public let expected: String
    public init(expected: String) { self.expected = expected }
    public var description: String { "expected \(expected)" }
}
