/// A Prometheus histogram's state: fixed upper bounds chosen up front, a count per bucket, the
/// sum and the count of observations. Observing is a short scan of the bounds and two adds,
/// with no allocation, so it can run once per loop iteration.
public struct Histogram: Sendable, Equatable {
    /// Upper bounds, ascending; the `+Inf` bucket is implicit.
    public let bounds: [Double]
    /// Observations per bucket, not cumulative: `counts[i]` fell in `(bounds[i-1], bounds[i]]`,
    /// and the last entry is the `+Inf` bucket.
    public private(set) var counts: [UInt64]
    public private(set) var sum = 0.0
    public private(set) var count: UInt64 = 0

    public init(bounds: [Double]) {
        precondition(!bounds.isEmpty && zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "histogram bounds must ascend")
        self.bounds = bounds
        counts = [UInt64](repeating: 0, count: bounds.count + 1)
    }

    /// Records one value. A negative or NaN value (a clock that stepped back) counts as zero.
    public mutating func observe(_ value: Double) {
        let value = value > 0 ? value : 0
        var index = 0
        while index < bounds.count && value > bounds[index] { index += 1 }
        counts[index] &+= 1
        sum += value
        count &+= 1
    }

    /// Cumulative counts per bound, as the exposition format wants them (`le` buckets).
    public var cumulativeCounts: [UInt64] {
        var running: UInt64 = 0
        return counts.map { running &+= $0; return running }
    }

    /// Bounds for durations from 100 µs to 1 s: loop iterations.
    public static let loopIterationBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
    /// Bounds for SQLite commits: 500 µs to 5 s.
    public static let commitBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    /// Bounds for Argon2id hashes (tens of milliseconds by design): 10 ms to 5 s.
    public static let passwordHashBounds = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
}
