import ChatCore
import ChatStore
import EventIO
import Glibc

/// How long history is kept. Enforced by the writer thread, never on the loop.
public struct HistoryRetention: Sendable {
    /// Lines kept per room (0: no cap).
    public var maxLinesPerRoom = 10_000
    /// Lines older than this many seconds are deleted (0: kept forever).
    public var maxAgeSeconds = 30.0 * 86_400
    /// Bytes the database's live pages may take (0: no cap); over it the oldest lines of any
    /// room are deleted. The file keeps its size (SQLite reuses freed pages), so the file stays
    /// near the cap plus what one retention interval writes.
    public var maxDatabaseBytes = 1 << 30
    public init() {}
}

/// Commits room history (and account and ban changes) to SQLite on its own thread, so the
/// loop never waits on disk.
///
/// The loop hands over each iteration's lines with one `submit` (one lock per iteration, not
/// per line). The thread commits whatever has queued in one transaction, then waits out the
/// rest of the commit window before the next, so a burst costs one commit per window instead
/// of one per line. A kill -9 therefore loses at most the lines of the last window (plus the
/// commit in flight); `close()` commits everything queued and returns only then.
/// A failed commit (disk full) is reported through `report` and the batch dropped: chat goes
/// on, and one line is logged when writing starts to fail and one when it works again.
/// Account changes a client waits on (`submit(_:confirm:)`) are committed one per transaction
/// and each is confirmed or refused, so the client hears the truth, not a false OK.
public final class StoreWriter: @unchecked Sendable {
    // @unchecked: `store` and the bookkeeping below are used only by the writer thread once
    // `init` returns; the loop thread touches only `queue` (thread-safe) and `thread` (join).
    public enum Report: Sendable {
        case failing(error: String, lines: Int)
        case recovered(lostLines: Int)
        case pruned(lines: Int)
        /// Every hand-over batch up to this one is committed (or, if writing failed, given up).
        case durable(batch: UInt64)
    }

    /// How often retention runs.
    static let retentionIntervalSeconds = 60.0
    /// Chunk rows deleted by age per statement, so no single delete holds the database long.
    static let pruneChunkRows = 5_000
    /// Statements per retention pass: a pass deletes at most this × `pruneChunkRows` rows, so
    /// commits of new lines wait at most one pass; a larger backlog is cleared over later passes.
    static let pruneRoundsPerPass = 20
    /// A batch at least this large means lines arrive faster than a window's worth is worth
    /// waiting for: the next commit starts at once, so the lines held in memory (bounded by
    /// `IOLimits.historyBytesInFlight`) stay a fraction of that bound instead of a window's
    /// worth of a flood. Smaller batches still wait out the commit window (fewer commits).
    static let batchBytesCommittedAtOnce = 512 << 10
    /// Seconds without anything to write after which SQLite's page cache is released.
    static let idleSecondsBeforeRelease = 2.0

    /// One item per loop iteration's hand-over, not per line.
    enum Write: Sendable {
        /// One loop iteration's lines, then its room changes (applied after those lines).
        case lines(HistoryHandOver)
        case changes([AccountChange])
        case confirmed([AccountWrite], confirm: @Sendable (AccountWriteReport) -> Void)
    }

    /// Oldest chunks deleted per statement by the size cap, and statements per pass.
    static let pruneBySizeRows = 1_000
    static let pruneBySizeRounds = 100

    private let queue = LockedQueue<Write>()
    private let store: HistoryStore
    private let accounts: AccountStore
    private let commitWindow: Double
    private let retention: HistoryRetention
    private let report: @Sendable (Report) -> Void
    /// Commit counts and durations for the metrics endpoint (nil in tools and tests).
    private let metrics: WorkerMetrics?
    private var thread: WorkerThread?
    private var touchedRooms = Set<String>()
    private var lostLines = 0

    public init(store: HistoryStore, accounts: AccountStore, commitWindow: Double, retention: HistoryRetention,
                metrics: WorkerMetrics? = nil, report: @escaping @Sendable (Report) -> Void) throws {
        self.store = store
        self.accounts = accounts
        self.commitWindow = max(0, commitWindow)
        self.retention = retention
        self.report = report
        self.metrics = metrics
        thread = try WorkerThread(name: "chatd-history") { [self] in run() }
    }

    /// From the loop thread: queue one iteration's hand-over for the next commit. Its `batch`
    /// comes back in a `.durable` report once committed; its room changes (protect, forget)
    /// are applied at their places among its lines.
    public func submit(_ history: HistoryHandOver) {
        queue.push(.lines(history))
    }

    /// From the loop thread: queue account and ban changes.
    public func submit(_ changes: [AccountChange]) { queue.push(.changes(changes)) }


    /// From the loop thread: queue account changes whose clients wait for the commit;
    /// `confirm` is called on the writer thread once per change, committed or not.
    public func submit(_ writes: [AccountWrite], confirm: @escaping @Sendable (AccountWriteReport) -> Void) {
        queue.push(.confirmed(writes, confirm: confirm))
    }

    /// Commits everything submitted so far, then stops the thread. Call once, at exit.
    public func close() {
        queue.close()
        thread?.join()
        thread = nil
    }

    private func run() {
        do {
            touchedRooms = Set(try store.roomKeys())  // the first pass covers every room
        } catch {
            report(.failing(error: "retention: \(error)", lines: 0))
        }
        var lastPrune = -Double.infinity
        var holdsCache = false
        while true {
            let (batch, closed) = queue.take(waitingAtMost: holdsCache ? Self.idleSecondsBeforeRelease : Self.retentionIntervalSeconds)
            if !batch.isEmpty {
                let started = monotonicSeconds()
                let bytes = write(batch)
                holdsCache = true
                let rest = commitWindow - (monotonicSeconds() - started)
                if rest > 0 && !closed && bytes < Self.batchBytesCommittedAtOnce { sleep(seconds: rest) }
            } else if holdsCache {
                // Quiet for a while after a burst: give SQLite's page cache back, so the
                // process returns to its size before the burst (the loop's trim unmaps it).
                store.database.releaseMemory()
                holdsCache = false
            }
            if closed {
                write(queue.takeAll())  // anything submitted while the last batch committed
                return
            }
            if monotonicSeconds() - lastPrune >= Self.retentionIntervalSeconds {
                prune()
                lastPrune = monotonicSeconds()
            }
        }
    }

    /// Lines are committed together (one transaction for the batch); a room change waits for
    /// the lines before it, so forgetting a room also forgets what was said just before.
    /// Returns the bytes of lines written (`RoomLines.bytesInMemory`).
    @discardableResult
    private func write(_ batch: [Write]) -> Int {
        var bytes = 0
        // The hand-overs as they came, not merged: the store reads them in place.
        var runs: [ArraySlice<RoomLines>] = []
        var changes: [AccountChange] = []
        var newestBatch: UInt64?
        var confirmed: [(AccountWrite, @Sendable (AccountWriteReport) -> Void)] = []
        for item in batch {
            switch item {
            case .lines(let history):
                newestBatch = history.batch
                bytes += history.bytes
                let more = history.runs
                var start = 0
                for room in history.roomChanges {  // each at its place among the runs
                    let end = min(max(room.afterRuns, start), more.count)
                    runs.append(more[start..<end])
                    start = end
                    commit(runs)
                    runs.removeAll()
                    apply([room.change])
                }
                runs.append(more[start...])
            case .changes(let more): changes += more
            case .confirmed(let writes, let confirm): confirmed += writes.map { ($0, confirm) }
            }
        }
        commit(runs)
        if let newestBatch { report(.durable(batch: newestBatch)) }
        if !changes.isEmpty {
            do {
                try accounts.apply(changes)
            } catch {
                report(.failing(error: "accounts: \(error)", lines: 0))
            }
        }
        // One transaction each: one refused change must not take someone else's with it.
        for (write, confirm) in confirmed {
            do {
                try accounts.apply([write.change])
                confirm(AccountWriteReport(ticket: write.ticket, error: nil))
            } catch {
                report(.failing(error: "accounts: \(error)", lines: 0))
                confirm(AccountWriteReport(ticket: write.ticket, error: "\(error)"))
            }
        }
        return bytes
    }

    private func apply(_ changes: [RoomHistoryChange]) {
        do {
            for change in changes {
                switch change {
                case .protect(let key): try store.protect(roomKey: key)
                case .unprotect(let key): try store.unprotect(roomKey: key)
                case .forget(let key):
                    try store.forget(roomKey: key)
                    touchedRooms.remove(key)
                }
            }
        } catch {
            report(.failing(error: "room history: \(error)", lines: 0))
        }
    }

    private func commit(_ segments: [ArraySlice<RoomLines>]) {
        let count = segments.reduce(0) { total, runs in runs.reduce(total) { $0 + $1.lines } }
        guard count > 0 else { return }
        let started = monotonicSeconds()
        do {
            touchedRooms.formUnion(try store.append(segments))
            metrics?.recordCommit(lines: count, seconds: monotonicSeconds() - started, succeeded: true)
            if lostLines > 0 {
                report(.recovered(lostLines: lostLines))
                lostLines = 0
            }
        } catch {
            metrics?.recordCommit(lines: count, seconds: monotonicSeconds() - started, succeeded: false)
            if lostLines == 0 { report(.failing(error: "\(error)", lines: count)) }
            lostLines += count
        }
    }

    private func prune() {
        var deleted = 0
        do {
            if retention.maxLinesPerRoom > 0 {
                for room in touchedRooms { deleted += try store.prune(roomKey: room, keep: retention.maxLinesPerRoom) }
            }
            touchedRooms.removeAll()
            if retention.maxAgeSeconds > 0 {
                let cutoff = wallClockSeconds() - retention.maxAgeSeconds
                for _ in 0..<Self.pruneRoundsPerPass {
                    let rows = try store.prune(olderThan: cutoff, limit: Self.pruneChunkRows)
                    deleted += rows
                    if rows < Self.pruneChunkRows { break }
                }
            }
            if retention.maxDatabaseBytes > 0 {
                for _ in 0..<Self.pruneBySizeRounds where try store.usedBytes() > retention.maxDatabaseBytes {
                    let rows = try store.pruneOldest(limit: Self.pruneBySizeRows)
                    deleted += rows
                    if rows == 0 { break }
                }
            }
        } catch {
            report(.failing(error: "retention: \(error)", lines: 0))
        }
        if deleted > 0 { report(.pruned(lines: deleted)) }
    }
}

/// Whether one account change a client waits on was committed (`error` nil) or refused.
public struct AccountWriteReport: Sendable {
    public let ticket: UInt64
    public let error: String?
}
