import Glibc

/// Secrets passed in the environment (`CHATD_PASSWORD`), read once and then erased.
///
/// `unsetenv` only drops the pointer from `environ`: the bytes stay in the block the kernel
/// copied onto the stack at exec, and that block is what `/proc/PID/environ` shows to the
/// process's owner (and root) for as long as it runs. So the value is overwritten in place,
/// in every entry that carries the name, before it is unset.
public enum SecretEnvironment {
    /// Every environment variable chatd reads that holds a secret. Nothing else may copy these
    /// (`EnvironmentOptions` skips them).
    public static let names: Set<String> = ["CHATD_PASSWORD"]

    /// Whether an `environ` entry (`NAME=value`) is one of the secrets, checked on the C string
    /// so that no Swift copy of its value is made.
    public static func isSecret(_ entry: UnsafePointer<CChar>) -> Bool {
        names.contains { strncmp(entry, $0 + "=", $0.utf8.count + 1) == 0 }
    }

    /// The value of `name` (the first entry, as `getenv` would give), after which every entry
    /// of that name is overwritten with NUL bytes and removed from the environment. Nil if
    /// it is not set.
    public static func take(_ name: String) -> [UInt8]? {
        let prefix = Array((name + "=").utf8)
        var value: [UInt8]?
        var cursor = environ
        while let entry = cursor.pointee {
            let bytes = UnsafeMutableRawPointer(entry).assumingMemoryBound(to: UInt8.self)
            if strncmp(entry, name + "=", prefix.count) == 0 {
                let start = bytes + prefix.count
                let length = strlen(entry) - prefix.count
                if value == nil { value = Array(UnsafeBufferPointer(start: start, count: length)) }
                explicit_bzero(start, length)
            }
            cursor += 1
        }
        unsetenv(name)
        return value
    }
}
