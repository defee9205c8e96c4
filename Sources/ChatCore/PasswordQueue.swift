/// Password work waiting for the hashing thread, in an order no source of guesses can abuse.
///
/// One Argon2id check costs tens of milliseconds on the one hashing thread, so the order of
/// the queue decides who waits. A plain FIFO lets 40 addresses spending their 5-guess bursts
/// put 200 checks in front of a legitimate login (about 18 s). Here:
/// - each source (`ClientAddress.attemptSource`: an IPv4 address or an IPv6 /64) has its own
///   FIFO and sources are served round robin, a newcomer joining the end of the round: a
///   source's first check waits at most one check per other source with work queued,
///   however many that source or the others queued;
/// - logged-in users' work (`/passwd`) has its own lane, served before any guest's: it never
///   waits behind strangers' guesses (only behind the one check already running);
/// - the guest lane holds at most `AuthLimits.maxQueuedChecks`. When it is full, a check from
///   a source with nothing queued takes the place of the newest check of the source with the
///   most queued (that client is told `SERVER_BUSY`); otherwise the new one is refused.
///   So memory and the longest wait are bounded, and as long as attackers hold fewer sources
///   than the bound, a newcomer is never refused.
///
/// Pure: the hub fills it, the I/O layer takes one job at a time (`next`) whenever the hashing
/// thread is free, so the order is decided at the last moment.
struct PasswordQueue {
    enum Lane { case priority, guest }

    /// What became of a job offered to the queue.
    enum Admission {
        case queued
        /// Queued, and this other job was dropped to make room: its client must be answered.
        case queuedDisplacing(AuthJob)
        case refused
    }

    private var guests = FairLane()
    private var priority = FairLane()

    var count: Int { guests.count + priority.count }

    /// Whether `add` would queue a job from `source` (so a refusal can be answered before the
    /// attempt costs a token).
    func wouldAdmit(source: String, lane: Lane, limits: AuthLimits) -> Bool {
        switch lane {
        case .priority:
            return priority.count < limits.maxQueuedPriorityChecks
        case .guest:
            return guests.count < limits.maxQueuedChecks || (guests.queued(from: source) == 0 && guests.longestQueue >= 2)
        }
    }

    mutating func add(_ job: AuthJob, source: String, lane: Lane, limits: AuthLimits) -> Admission {
        guard wouldAdmit(source: source, lane: lane, limits: limits) else { return .refused }
        switch lane {
        case .priority:
            priority.append(job, source: source)
            return .queued
        case .guest:
            let displaced = guests.count >= limits.maxQueuedChecks ? guests.removeNewestOfLongest() : nil
            guests.append(job, source: source)
            return displaced.map { .queuedDisplacing($0) } ?? .queued
        }
    }

    /// The job to run next: logged-in users' first, then guests', each lane round robin.
    mutating func next() -> AuthJob? {
        priority.next() ?? guests.next()
    }

    /// Drops every queued job of a client that left; returns them for clean-up.
    mutating func removeJobs(of client: ClientID) -> [AuthJob] {
        priority.remove { $0.client == client } + guests.remove { $0.client == client }
    }
}

/// One lane: a FIFO per source, sources served round robin (the front of `order` is next; a
/// source that still has work after its turn goes to the back).
private struct FairLane {
    private var queues: [String: [AuthJob]] = [:]
    private var order: [String] = []
    private(set) var count = 0

    func queued(from source: String) -> Int { queues[source]?.count ?? 0 }

    var longestQueue: Int { queues.values.map(\.count).max() ?? 0 }

    mutating func append(_ job: AuthJob, source: String) {
        if queues[source] == nil { order.append(source) }
        queues[source, default: []].append(job)
        count += 1
    }

    mutating func next() -> AuthJob? {
        guard !order.isEmpty else { return nil }
        let source = order.removeFirst()
        guard var queue = queues[source], !queue.isEmpty else {
            queues[source] = nil
            return next()
        }
        let job = queue.removeFirst()
        count -= 1
        if queue.isEmpty {
            queues[source] = nil
        } else {
            queues[source] = queue
            order.append(source)
        }
        return job
    }

    /// Takes the newest job of the source with the most queued (the one whose turn is
    /// furthest away among equals), to make room for a newcomer.
    mutating func removeNewestOfLongest() -> AuthJob? {
        var longest: String?
        for source in order.reversed() where queued(from: source) > queued(from: longest ?? "") {
            longest = source
        }
        guard let source = longest, var queue = queues[source], let job = queue.popLast() else { return nil }
        count -= 1
        if queue.isEmpty {
            queues[source] = nil
            order.removeAll { $0 == source }
        } else {
            queues[source] = queue
        }
        return job
    }

    mutating func remove(where matches: (AuthJob) -> Bool) -> [AuthJob] {
        var removed: [AuthJob] = []
        for (source, queue) in queues {
            let kept = queue.filter { !matches($0) }
            guard kept.count != queue.count else { continue }
            removed += queue.filter(matches)
            count -= queue.count - kept.count
            if kept.isEmpty {
                queues[source] = nil
                order.removeAll { $0 == source }
            } else {
                queues[source] = kept
            }
        }
        return removed
    }
}
