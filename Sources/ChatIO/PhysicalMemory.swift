import Glibc

/// The machine's memory, for defaults sized to it.
enum PhysicalMemory {
    /// Physical memory in bytes, or nil when sysconf cannot tell.
    static var bytes: Int? {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return nil }
        let (total, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : total
    }
}
