/// At most one log line per `interval` about one recurring condition, saying how often it
/// happened since the last line: a flood of the same event (refused accepts, a writer that
/// keeps falling behind) cannot flood the log, and nothing is hidden without a count.
struct LogThrottle {
    let interval: Double
    private var lastLogged = -Double.infinity
    private var unlogged = 0

    init(every interval: Double) { self.interval = interval }

    /// Counts one occurrence at `now`. Returns how many occurred since the last line (this one
    /// included) when a line may be written now, nil when it must wait.
    mutating func occurred(now: Double) -> Int? {
        unlogged += 1
        guard now - lastLogged >= interval else { return nil }
        defer {
            lastLogged = now
            unlogged = 0
        }
        return unlogged
    }
}
