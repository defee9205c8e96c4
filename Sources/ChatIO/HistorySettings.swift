import ChatCore

/// History settings (`--db`, `--history-*`, `--commit-window`).
public struct HistorySettings: Sendable {
    /// Lines kept in memory per room: the most `/history` shows and the most replayed on join.
    public static let linesInMemory = 200
    /// Lines replayed on join (0: none).
    public var replayLines = HistoryBook.defaultReplayLines
    /// Longest a received line waits before it is committed (see `StoreWriter`).
    public var commitWindow = 0.05
    /// Bytes of lines kept in memory across all rooms (`--history-memory`; see `HistoryBook`).
    public var memoryBudget = HistoryBook.defaultMemoryBudget
    public var retention = HistoryRetention()
    public init() {}
}
