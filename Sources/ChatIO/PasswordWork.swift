import ChatCore
import EventIO

/// The loop's side of the work accounts send off the loop: the hashing thread, the inbox its
/// results come back through and how many jobs it holds (at most `PasswordHasher.jobsInFlight`;
/// the rest wait in the hub's fair queue), and the inbox for account writes a client waits on.
struct PasswordWork {
    private var hasher: PasswordHasher?
    private var results: AsyncInbox<AuthResult>?
    /// Jobs handed to the hashing thread and not yet back.
    private(set) var jobsInFlight = 0
    /// Commit reports for account changes whose clients wait; nil without a store.
    private(set) var writeReports: AsyncInbox<AccountWriteReport>?

    /// How many more jobs the hashing thread may take now.
    var room: Int { PasswordHasher.jobsInFlight - jobsInFlight }

    /// Takes over a started hashing thread and the started inbox its results arrive in.
    mutating func start(_ hasher: PasswordHasher, results: AsyncInbox<AuthResult>) {
        self.hasher = hasher
        self.results = results
    }

    /// Takes over the started inbox of account-write reports.
    mutating func confirmWrites(_ reports: AsyncInbox<AccountWriteReport>) { writeReports = reports }

    /// Hands `job` to the hashing thread; false when there is none (the job fails at once).
    mutating func submit(_ job: AuthJob) -> Bool {
        guard let hasher else { return false }
        hasher.submit([job])
        jobsInFlight += 1
        return true
    }

    /// One job came back.
    mutating func finished() { jobsInFlight -= 1 }

    /// At exit: finish queued hashes and stop the thread and the inboxes.
    mutating func close() {
        hasher?.close()
        hasher = nil
        results?.stop()
        results = nil
        writeReports?.stop()
        writeReports = nil
    }
}
