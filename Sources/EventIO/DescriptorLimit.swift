import Glibc

/// The per-process descriptor limit, which bounds how many clients one process can hold.
public enum DescriptorLimit {
    /// Raises the soft RLIMIT_NOFILE to the hard limit (redis's `adjustOpenFilesLimit`) and
    /// returns the limit now in force.
    public static func raiseToHard() throws(SystemError) -> Int {
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            throw SystemError("getrlimit", "RLIMIT_NOFILE", errno: errno)
        }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
                throw SystemError("setrlimit", "RLIMIT_NOFILE \(limit.rlim_max)", errno: errno)
            }
            return Int(clamping: raised.rlim_cur)
        }
        return Int(clamping: limit.rlim_cur)
    }
}
