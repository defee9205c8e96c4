/// UTC timestamps for replayed history, computed without the C library so the core stays pure.
public enum Timestamp {
    /// The earliest time rendered: 0000-01-01T00:00:00Z. ISO 8601 writes years with four digits.
    public static let earliest: Double = -62_167_219_200
    /// The latest time rendered: 9999-12-31T23:59:59Z.
    public static let latest: Double = 253_402_300_799

    /// `2026-11-21T10:15:03Z` for seconds since the Unix epoch. Any `Double` is rendered, never
    /// trapped on: a time after 9999 (and +inf) renders as `latest`, one before year 0 (and
    /// -inf, and NaN, which compares false with everything) as `earliest`.
    public static func iso8601(_ seconds: Double) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        appendISO8601(seconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the same 20 bytes straight into `out`: replays render a timestamp per line per
    /// joiner, so this is arithmetic and digit stores, with no string built on the way.
    public static func appendISO8601(_ seconds: Double, to out: inout [UInt8]) {
        let clamped = seconds >= earliest ? min(seconds, latest) : earliest
        let whole = Int64(clamped.rounded(.down))
        let days = whole >= 0 ? whole / 86_400 : (whole - 86_399) / 86_400
        let secondOfDay = whole - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        appendDigits(year, count: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, count: 2, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `value` (0 ≤ value < 10^count after the clamp) as exactly `count` decimal digits.
    private static func appendDigits(_ value: Int64, count: Int, to out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    static func civilDate(daysSinceEpoch days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
