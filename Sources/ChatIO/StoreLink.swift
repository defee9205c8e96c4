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

    /// Times this hand-over bound was reached since the last line logged about it, and when
    /// that line was: a flood can reach it many times a second, the log hears of it once a
    /// minute at most (with the count).
    private var boundReachedUnlogged = 0
    private var boundLastLogged = -Double.infinity
    static let boundLogIntervalSeconds = 60.0

    /// Hands one iteration's history to the writer (nothing happens without a store). Returns
    /// a line for the log when this hand-over took the writer past the bound on history in
    /// flight, so clients' input is now held, unless one was logged in the last minute.
    mutating func submit(_ history: HistoryHandOver, now: Double) -> String? {
        guard let writer else { return nil }
        writer.submit(history.lines, then: history.roomChanges, batch: history.batch)
        inFlight.append((history.batch, history.bytes))
        let wasBehind = bytesInFlight >= IOLimits.historyBytesInFlight
        bytesInFlight += history.bytes
        guard !wasBehind, bytesInFlight >= IOLimits.historyBytesInFlight else { return nil }
        boundReachedUnlogged += 1
        guard now - boundLastLogged >= Self.boundLogIntervalSeconds else { return nil }
        defer {
            boundReachedUnlogged = 0
            boundLastLogged = now
        }
        return "history: the writer is \(bytesInFlight) bytes behind (bound \(IOLimits.historyBytesInFlight)); clients' input is held until it catches up (reached \(boundReachedUnlogged) time\(boundReachedUnlogged == 1 ? "" : "s") since the last such line)"
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
