import EventIO
import Glibc

/// What /proc says about the server process: CPU time and resident memory, so the report can
/// give deliveries per server CPU-second and bytes per connection.
struct ProcessStats {
    let pid: Int32
    /// Processes whose CPU time is added to the server's (`--also-pid`: the other nodes and
    /// Redis of a cluster), so "per server CPU-second" counts everything that served.
    var others: [Int32] = []

    /// User + system CPU seconds consumed so far by the server and `others`.
    func cpuSeconds() -> Double? {
        var total = 0.0
        for process in [pid] + others {
            guard let seconds = cpuSeconds(of: process) else { return nil }
            total += seconds
        }
        return total
    }

    /// User + system CPU seconds of one process so far, from /proc/PID/stat fields 14 and 15.
    func cpuSeconds(of pid: Int32) -> Double? {
        guard let text = read("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the ")" the fields start at #3 (state), so utime (#14) is index 11.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size in bytes, from VmRSS in /proc/PID/status.
    func residentBytes() -> Int? {
        guard let text = read("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").dropFirst().first
            return digits.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    private func read(_ path: String) -> String? { try? TextFile.read(path) }
}
