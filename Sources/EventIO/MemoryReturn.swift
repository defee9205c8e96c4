import CLibEv

/// Makes memory freed after a burst leave the process, so RSS returns to where it was.
///
/// glibc serves allocations of at least the mmap threshold with their own mappings, which a
/// free unmaps at once; smaller ones come from the heap, whose top is given back only when
/// it is free. By default the threshold *rises* to the size of the largest mapping freed (up to
/// 32 MiB), so after one burst of big output backlogs every later backlog of that size lives in
/// the heap, and a heap pinned by one small live block keeps tens of MB after the burst
/// (measured: a stalled reader and two floods left chatd 31 MiB larger, and it stayed so).
/// Setting the threshold fixes it (and turns the rising off); the outbox's two arenas, the only
/// large buffers reused every loop pass, keep their capacity (`Outbox.retainedArenaBytes` each),
/// so this adds no mmap per pass.
public enum MemoryReturn {
    /// Buffers at least this large are mapped on their own and unmapped when freed.
    public static let mmapThresholdBytes: Int32 = 128 * 1024

    /// Call once at start, before the loop runs. Returns false if glibc refused (then RSS after a
    /// burst may stay high, which costs memory, not correctness).
    @discardableResult
    public static func configure() -> Bool {
        mallopt(M_MMAP_THRESHOLD, mmapThresholdBytes) == 1
    }

    /// Gives back whole free pages inside the heap (not only at its top), which a burst of small
    /// allocations leaves behind (measured: ~7 MiB after a 10 s flood). Walks the free lists,
    /// so it runs from the housekeeping timer every `trimIntervalSeconds`, never per message.
    public static func trim() {
        _ = malloc_trim(0)
    }

    /// How often the housekeeping timer calls `trim`.
    public static let trimIntervalSeconds = 5.0
}
