import EventIO
import Glibc

/// The standard `process_*` metrics every Prometheus client library exports, read from /proc
/// when Prometheus scrapes: CPU time, memory, descriptors and start time. A figure /proc does
/// not give (a hardened unit may hide some) is left out of the exposition, not reported as 0.
struct ProcessMetrics {
    var cpuSeconds: Double?
    var residentBytes: Int?
    var virtualBytes: Int?
    var openDescriptors: Int?
    var maxDescriptors: Int?
    /// Seconds since the Unix epoch.
    var startTimeSeconds: Double?

    static func read() -> ProcessMetrics {
        var metrics = ProcessMetrics()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        if let text = try? TextFile.read("/proc/self/stat"), let stat = ProcessStat(text), ticks > 0 {
            metrics.cpuSeconds = (Double(stat.userTicks) + Double(stat.systemTicks)) / ticks
            metrics.virtualBytes = stat.virtualBytes
            let (resident, overflow) = stat.residentPages.multipliedReportingOverflow(by: pageSize)
            metrics.residentBytes = overflow ? nil : resident
            if let boot = try? TextFile.read("/proc/stat"), let bootTime = Self.bootTime(boot) {
                metrics.startTimeSeconds = bootTime + Double(stat.startTicks) / ticks
            }
        }
        metrics.openDescriptors = Self.countOpenDescriptors()
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { metrics.maxDescriptors = Int(clamping: limit.rlim_cur) }
        return metrics
    }

    /// `btime` from /proc/stat: the boot time in seconds since the epoch.
    static func bootTime(_ text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingSpaces)
        }
        return nil
    }

    /// Entries of /proc/self/fd, less the one the listing itself holds open.
    static func countOpenDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0.first }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count - 1)
    }
}

/// The fields of /proc/self/stat chatd reports (proc(5)). The command name in parentheses may
/// hold spaces and parentheses itself, so fields are counted from the last `)`.
struct ProcessStat: Equatable {
    var userTicks: Int
    var systemTicks: Int
    var startTicks: Int
    var virtualBytes: Int
    var residentPages: Int

    init?(_ text: String) {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is index 0, so field N is index N - 3.
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        func field(_ number: Int) -> Int? { number - 3 < fields.count ? Int(fields[number - 3].trimmingSpaces) : nil }
        guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23), let resident = field(24) else { return nil }
        userTicks = user
        systemTicks = system
        startTicks = start
        virtualBytes = virtual
        residentPages = resident
    }
}
