import ChatCore
import EventIO

/// The loop's side of the store writer: the writer thread, the inbox its reports come back
/// through, and the history hand-overs not yet committed, whose bytes bound how far the writer
/// may fall behind before clients' input is held (`IOLimits.historyBytesInFlight`).
///
/// A value stored in the server, not an object: the input path reads `bytesInFlight` for every
/// line it frames, and that is one field load.
struct StoreLink {
    /// The writer thread; nil when there is no store (`--no-history`) or once it is closed.
    private(set) var writer: StoreWriter?
    private var reports: AsyncInbox<StoreWriter.Report>?
    /// Hand-over batches not yet reported durable, with their bytes.
    private var inFlight: [(batch: UInt64, bytes: Int)] = []
    /// Bytes handed over and not yet committed.
    private(set) var bytesInFlight = 0

    /// Whether a store is open: account changes are then answered only once committed.
    var isOpen: Bool { writer != nil }

    /// Takes over a started writer and the started inbox its reports arrive in.
    mutating func open(_ writer: StoreWriter, reports: AsyncInbox<StoreWriter.Report>) {
        self.writer = writer
        self.reports = reports
    }

    /// A flood can reach the bound on history in flight many times a second; the log hears of
    /// it once a minute at most, with the count.
    private var boundLog = LogThrottle(every: 60)

    /// Hands one iteration's history to the writer (nothing happens without a store). Returns
    /// a line for the log when this hand-over took the writer past the bound on history in
    /// flight, so clients' input is now held, unless one was logged in the last minute.
    mutating func submit(_ history: HistoryHandOver, now: Double) -> String? {
        guard let writer else { return nil }
        writer.submit(history)
        inFlight.append((history.batch, history.bytes))
        let wasBehind = bytesInFlight >= IOLimits.historyBytesInFlight
        bytesInFlight += history.bytes
        guard !wasBehind, bytesInFlight >= IOLimits.historyBytesInFlight, let times = boundLog.occurred(now: now) else { return nil }
        return "history: the writer is \(bytesInFlight) bytes behind (bound \(IOLimits.historyBytesInFlight)); clients' input is held until it catches up (reached \(times) time\(times == 1 ? "" : "s") since the last such line)"
    }

    /// The writer committed every batch up to `batch`: their bytes no longer count.
    mutating func committed(through batch: UInt64) {
        while let first = inFlight.first, first.batch <= batch {
            bytesInFlight -= first.bytes
            inFlight.removeFirst()
        }
    }

    /// At exit, after everything is handed over: the writer commits it all and stops. Returns
    /// the stopped inbox holding its last reports, for the caller to deliver once this access
    /// has ended (their handler calls `committed(through:)`, which would overlap it).
    mutating func close() -> AsyncInbox<StoreWriter.Report>? {
        writer?.close()
        writer = nil
        let last = reports
        reports = nil
        last?.stop()
        return last
    }
}
