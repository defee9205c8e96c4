import ChatCore

/// The accepted range of every numeric setting, named after its option. The command line (and
/// with it the `CHATD_*` environment, which becomes command-line arguments) and the `--config`
/// file read numbers through these same values, so all of them accept the same numbers and
/// refuse the rest in the same words: "expected a number of seconds from 0 to 315360000 (10
/// years)". A new numeric option adds one line here and its entry in `Setting.table`, which
/// names the range. The README's option table states these ranges.
public enum SettingRange {
    public static let port = Bounded.count(to: 65_535)
    public static let maxLineBytes = Bounded.bytes(from: 16, to: 1_048_576)
    public static let maxClients = Bounded.count(from: 1)
    public static let maxClientsPerAddress = Bounded.count()
    public static let noticeRoomLimit = Bounded.count()
    /// The soft output limit.
    public static let outputLimit = Bounded.bytes()
    /// The hard output limit counts everything queued for a client in a pass, the welcome
    /// included: below 64 KiB every client would be cut as it connects.
    public static let outputHardLimit = Bounded.bytes(from: 65_536)
    public static let outputSoftSeconds = Bounded.seconds()
    public static let maxLineRate = Bounded(0, Bounded.maxRate, unit: "lines per second", wholeNumber: false)
    public static let lineBurst = Bounded(1, Bounded.maxRate, unit: "lines", wholeNumber: false)
    /// At least one flood-control tick or two: a shorter time could not be observed anyway.
    public static let floodSeconds = Bounded.seconds(from: 0.1)
    public static let idleTimeout = Bounded.seconds()
    public static let partialLineTimeout = Bounded.seconds()
    public static let historyReplay = Bounded.count(to: Double(HistorySettings.linesInMemory))
    public static let historyMaxLines = Bounded.count()
    public static let historyMaxDays = Bounded(0, Bounded.maxSeconds / 86_400, unit: "days", wholeNumber: false, maximumNote: "10 years")
    public static let commitWindow = Bounded.seconds(to: 1)
    /// From a tenth of a second (a handshake over loopback takes a millisecond) to an hour.
    public static let tlsHandshakeTimeout = Bounded.seconds(from: 0.1, to: 3600)
    /// Past a few seconds an nc user would think the server hung.
    public static let protocolWait = Bounded.seconds(to: 5)
    /// From a tenth of a second (tests) to a day.
    public static let ircTimeout = Bounded.seconds(from: 0.1, to: 86_400)
    /// At least one handshake in flight, or TLS clients would never be accepted.
    public static let tlsMaxHandshakes = Bounded.count(from: 1)
    public static let maxClientMemory = Bounded.bytes(from: 1)
    public static let maxRooms = Bounded.count(from: 1)
    public static let historyMemory = Bounded.bytes()
    public static let historyMaxBytes = Bounded.bytes()
}
