import Glibc

/// The machine's memory, for defaults sized to it.
public enum PhysicalMemory {
    /// The memory this process may use: physical memory, or the cgroup v2 limit
    /// (`/sys/fs/cgroup/memory.max`) when a container or systemd unit sets a lower one; nil
    /// when neither can be read.
    public static var bytes: Int? {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        var physical: Int?
        if pages > 0, pageSize > 0 {
            let (total, overflow) = pages.multipliedReportingOverflow(by: pageSize)
            physical = overflow ? Int.max : total
        }
        guard let limit = cgroupLimit else { return physical }
        return min(physical ?? limit, limit)
    }

    /// The cgroup v2 memory limit, if one is set ("max" means none).
    private static var cgroupLimit: Int? {
        guard let text = try? TextFile.read("/sys/fs/cgroup/memory.max") else { return nil }
        return Int(text.trimmingSpaces.filter { !$0.isNewline })
    }
}
