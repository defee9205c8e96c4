import CSodium
import ChatCore
import EventIO
import Glibc

/// Argon2id password hashing (libsodium's `crypto_pwhash_str`, interactive limits: 64 MiB and
/// two passes, tens of milliseconds) on its own thread, so nobody's messages wait while
/// someone logs in. Jobs come from the loop through a locked queue; results go back through
/// an `AsyncInbox`. Hashes are self-describing strings (`$argon2id$v=19$m=65536,t=2,p=1$…`)
/// holding their own salt and limits; verification is libsodium's, in constant time.
public final class PasswordHasher: @unchecked Sendable {
    // @unchecked: `queue` is thread-safe; `thread` is touched only by the creating thread.
    /// Jobs handed to the thread at once. One: the order is decided by the hub's fair queue at
    /// the last moment, and nothing already handed over can be overtaken. The round trip
    /// through the loop between two jobs costs microseconds against a hash's milliseconds.
    static let jobsInFlight = 1
    private let queue = LockedQueue<AuthJob>()
    private var thread: WorkerThread?

    /// Starts the hashing thread; `finished` is called on that thread for every job.
    /// `metrics`, if given, gets each job's duration.
    public init(metrics: WorkerMetrics? = nil, finished: @escaping @Sendable (AuthResult) -> Void) throws {
        guard sodium_init() >= 0 else { throw SystemError("sodium_init", "libsodium could not initialise", errno: 0) }
        let queue = self.queue
        thread = try WorkerThread(name: "chatd-hash") {
            while true {
                let (jobs, closed) = queue.take(waitingAtMost: 3600)
                for job in jobs {
                    let started = monotonicSeconds()
                    let result = Self.run(job)
                    metrics?.recordPasswordJob(seconds: monotonicSeconds() - started)
                    finished(result)
                }
                if closed && jobs.isEmpty { return }
            }
        }
    }

    public func submit(_ jobs: [AuthJob]) { queue.push(contentsOf: jobs) }

    /// Finishes the queued jobs and stops the thread.
    public func close() {
        queue.close()
        thread?.join()
        thread = nil
    }

    static func run(_ job: AuthJob) -> AuthResult {
        switch job.work {
        case .hash(let password):
            return AuthResult(job: job, outcome: hash(password).map { .hashed($0) } ?? .failed)
        case .verify(let password, let stored):
            return AuthResult(job: job, outcome: verify(password, stored) ? .verified : .rejected)
        case .verifyThenHash(let old, let stored, let new):
            guard verify(old, stored) else { return AuthResult(job: job, outcome: .rejected) }
            return AuthResult(job: job, outcome: hash(new).map { .hashed($0) } ?? .failed)
        }
    }

    /// A hash for a process that runs no hashing thread (`chatd hash-password`), which must
    /// initialise libsodium itself.
    public static func hashOnce(_ password: [UInt8]) throws -> String {
        guard sodium_init() >= 0 else { throw SystemError("sodium_init", "libsodium could not initialise", errno: 0) }
        guard let hash = hash(password) else { throw SystemError("crypto_pwhash_str", errno: ENOMEM) }
        return hash
    }

    /// A fresh salted Argon2id hash, or nil if libsodium could not get the memory.
    public static func hash(_ password: [UInt8]) -> String? {
        var output = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        var chars = cString(password)
        defer { sodium_memzero(&chars, chars.count) }
        let result = crypto_pwhash_str(&output, chars, UInt64(password.count),
                                       UInt64(crypto_pwhash_opslimit_interactive()), crypto_pwhash_memlimit_interactive())
        guard result == 0 else { return nil }
        return String(cString: output)
    }

    /// A real Argon2id hash of a password nobody knows (made once with `chatd hash-password`
    /// from random text that was thrown away), for logins to names that do not exist. Only its
    /// cost parameters matter: verifying against it does the same work as against a real
    /// account. A constant instead of a fresh hash at start because hashing one costs a 64 MiB
    /// allocation, which was most of chatd's start-up RSS.
    static let builtInDecoy = "$argon2id$v=19$m=65536,t=2,p=1$/UAHxMLj31fLpSBIcK/lXA$4CvAC1VxcfIO+PaX3tCNR4eQ01qVAOqxdlJDh75RLXw"

    /// The decoy hash: the built-in one while its cost matches this libsodium's interactive
    /// limits (so the timing of a login tells nothing), else a fresh one of 32 random bytes.
    public static func decoyHash() -> String {
        let parameters = "$argon2id$v=19$m=\(crypto_pwhash_memlimit_interactive() / 1024),t=\(crypto_pwhash_opslimit_interactive()),p=1$"
        if builtInDecoy.hasPrefix(parameters) { return builtInDecoy }
        var random = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&random, random.count)
        return hash(random) ?? ""
    }

    /// Whether `password` matches `stored` (false for a malformed or empty hash).
    public static func verify(_ password: [UInt8], _ stored: String) -> Bool {
        guard stored.hasPrefix("$argon2") else { return false }
        var chars = cString(password)
        defer { sodium_memzero(&chars, chars.count) }
        return crypto_pwhash_str_verify(stored, chars, UInt64(password.count)) == 0
    }

    /// The password as C chars with a terminating NUL, so even an empty one has an address.
    /// Callers wipe it after use (best effort: Swift may have copied the array before).
    private static func cString(_ password: [UInt8]) -> [CChar] {
        password.map { CChar(bitPattern: $0) } + [0]
    }
}
