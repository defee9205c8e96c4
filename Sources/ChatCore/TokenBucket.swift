/// Per-connection flood control: `rate` lines per second on average, bursts up to `burst`.
/// The I/O layer asks before handling each line; when the bucket is empty it stops reading the
/// socket (the kernel then pushes back on the sender) instead of dropping anything.
public struct TokenBucket: Sendable {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var updated: Double

    public init(rate: Double, burst: Double, now: Double) {
        precondition(rate > 0 && burst >= 1, "a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        tokens = burst
        updated = now
    }

    /// Takes one token if there is one.
    public mutating func take(now: Double) -> Bool {
        if now > updated {
            tokens = min(burst, tokens + (now - updated) * rate)
            updated = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whether a `take` now would succeed, without taking: the I/O layer asks before each line
    /// so that it stops feeding a client exactly where its tokens run out.
    public func hasToken(now: Double) -> Bool {
        min(burst, tokens + max(0, now - updated) * rate) >= 1
    }

    /// Whether the bucket has refilled completely (its owner can be forgotten).
    public func isFull(now: Double) -> Bool {
        min(burst, tokens + max(0, now - updated) * rate) >= burst
    }

    /// Seconds until the next token is available (0 if one is).
    public func wait(now: Double) -> Double {
        let available = min(burst, tokens + max(0, now - updated) * rate)
        return available >= 1 ? 0 : (1 - available) / rate
    }
}
