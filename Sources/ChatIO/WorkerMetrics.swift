import ChatCore
import EventIO
import Synchronization

/// Figures the history writer and the password hasher record on their own threads: a mutex
/// taken once per commit or per hash (a few dozen times a second at most), and by the loop
/// when Prometheus scrapes. The loop thread never waits on it otherwise.
public final class WorkerMetrics: Sendable {
    public struct Snapshot: Sendable {
        public var linesCommitted: UInt64 = 0
        /// Lines whose commit failed (a full disk): not in the database.
        public var linesLost: UInt64 = 0
        /// Failed commits.
        public var writeFailures: UInt64 = 0
        public var commitDuration = Histogram(bounds: Histogram.commitBounds)
        public var passwordJobs: UInt64 = 0
        public var passwordHashDuration = Histogram(bounds: Histogram.passwordHashBounds)
    }

    private let state = Mutex(Snapshot())

    public init() {}

    /// From the writer thread, after each commit of history lines.
    public func recordCommit(lines: Int, seconds: Double, succeeded: Bool) {
        state.withLock { state in
            state.commitDuration.observe(seconds)
            if succeeded {
                state.linesCommitted &+= UInt64(clamping: lines)
            } else {
                state.linesLost &+= UInt64(clamping: lines)
                state.writeFailures &+= 1
            }
        }
    }

    /// From the hashing thread, after each job (one Argon2id hash or verification, or two).
    public func recordPasswordJob(seconds: Double) {
        state.withLock { state in
            state.passwordHashDuration.observe(seconds)
            state.passwordJobs &+= 1
        }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }
}
