import ChatCore
import EventIO

/// What the metrics endpoint serves, read from the server when Prometheus scrapes.
///
/// Nothing is counted for it on the hot path beyond what the hub and the server keep anyway:
/// plain integer totals (`Hub.counters`, `Outbox.deliveries`, `ServerCounters`) and, with
/// metrics on, one histogram update per loop iteration. Gauges (backlogs, clients over the soft
/// limit, memory) are computed when Prometheus scrapes: O(clients) once per scrape.
enum ServerMetrics {
    /// Every metric of `server`, in the text exposition format 0.0.4.
    static func render(_ server: ChatServer) -> String {
        let hub = server.hub, counters = server.counters
        var out = PrometheusText()
        out.family("chatd_build_info", .gauge, "chatd's version; always 1.")
        out.sample("chatd_build_info", ["version": ChatdVersion.current], 1)

        out.family("chatd_clients_connected", .gauge, "Clients connected now, by protocol (chatd native, the tcp-chat seed protocol, ...) and transport.")
        var protocols: [(name: String, clients: Int)] = []  // in style order; variants of one protocol add up
        for style in WireStyle.all {
            let clients = hub.counters.clientsByStyle[Int(style.index)]
            if let known = protocols.firstIndex(where: { $0.name == style.protocolName }) { protocols[known].clients += clients } else { protocols.append((style.protocolName, clients)) }
        }
        for (name, clients) in protocols { out.sample("chatd_clients_connected", ["protocol": name, "transport": "tcp"], clients) }
        out.gauge("chatd_clients_limit", "Most clients at once (--max-clients, or what the descriptor limit allows).", server.maxClients)
        out.counter("chatd_connections_accepted_total", "Connections admitted as clients.", counters.accepted)
        out.family("chatd_connections_refused_total", .counter, "Connections closed at accept with one error line, by reason.")
        out.sample("chatd_connections_refused_total", ["reason": "server_full"], counters.refusedServerFull)
        out.sample("chatd_connections_refused_total", ["reason": "address_limit"], counters.refusedPerAddress)
        out.sample("chatd_connections_refused_total", ["reason": "shutting_down"], counters.refusedShuttingDown)
        out.sample("chatd_connections_refused_total", ["reason": "no_descriptors"], counters.refusedNoDescriptors)
        out.family("chatd_disconnects_total", .counter, "Clients that left, by reason.")
        for reason in DisconnectReason.allCases {
            out.sample("chatd_disconnects_total", ["reason": reason.label], hub.counters.disconnects[reason])
        }

        out.counter("chatd_lines_received_total", "Complete lines received from clients (commands and chat).", hub.counters.linesReceived)
        out.family("chatd_lines_rejected_total", .counter, "Lines dropped with an error before the hub saw them, by reason.")
        out.sample("chatd_lines_rejected_total", ["reason": "too_long"], hub.counters.linesTooLong)
        out.sample("chatd_lines_rejected_total", ["reason": "invalid_utf8"], hub.counters.linesInvalidUTF8)
        out.counter("chatd_messages_relayed_total", "Room lines, actions and private messages relayed (each once, however many receive it).", hub.messagesRelayed)
        out.counter("chatd_deliveries_total", "Messages queued for one recipient: every line sent to a client (a room line to 99 members is 99).", hub.outbox.deliveries)
        out.counter("chatd_received_bytes_total", "Bytes clients sent (over TLS: after decryption).", counters.bytesReceived)
        out.counter("chatd_sent_bytes_total", "Bytes written to client sockets (over TLS: records, as on the wire).", counters.bytesSent)

        var backlog = 0
        var overSoftLimit = 0
        for case let connection? in server.connections where !connection.isClosed {
            backlog += connection.pendingOutput
            if connection.overSoftLimitSince != nil { overSoftLimit += 1 }
        }
        out.gauge("chatd_output_backlog_bytes", "Output written by chatd but not yet taken by clients' sockets, all clients together.", backlog)
        out.gauge("chatd_clients_over_soft_limit", "Clients whose unsent output is over --output-soft-limit now.", overSoftLimit)
        out.gauge("chatd_client_memory_bytes", "Bytes all clients pin: output backlogs and held input (bounded by --max-client-memory).", server.clientMemoryBytes)
        out.gauge("chatd_client_memory_limit_bytes", "--max-client-memory.", server.config.maxClientMemory)
        out.gauge("chatd_rooms", "Rooms that exist now.", hub.roomCount)

        let workers = server.workerMetrics.snapshot
        out.gauge("chatd_history_memory_bytes", "Bytes of history lines held in memory (bounded by --history-memory).", hub.history?.bytes ?? 0)
        out.counter("chatd_history_lines_queued_total", "History lines handed to the writer thread.", counters.historyLinesQueued)
        out.counter("chatd_history_lines_committed_total", "History lines committed to the database.", workers.linesCommitted)
        out.counter("chatd_history_lines_lost_total", "History lines whose commit failed (not in the database).", workers.linesLost)
        out.counter("chatd_history_write_failures_total", "Failed history commits (a full disk, a broken database).", workers.writeFailures)
        out.histogram("chatd_history_commit_duration_seconds", "Time one history commit took on the writer thread.", workers.commitDuration)
        out.counter("chatd_password_hashes_queued_total", "Password jobs (Argon2id hash or verification) handed to the hashing thread.", counters.passwordJobsQueued)
        out.histogram("chatd_password_hash_duration_seconds", "Time one password job took on the hashing thread.", workers.passwordHashDuration)
        if let loopClock = server.metrics?.loopClock {
            out.histogram("chatd_loop_iteration_duration_seconds",
                          "Busy time of one event-loop iteration, from waking up to going back to sleep: the longest an event waits to be looked at (loop lag).",
                          loopClock.durations)
        }
        if let metricsListener = server.metrics?.listener {
            out.family("chatd_metrics_requests_total", .counter, "Requests to this endpoint, by HTTP status answered.")
            for status in metricsListener.answered.keys.sorted() {
                out.sample("chatd_metrics_requests_total", ["code": String(status)], metricsListener.answered[status] ?? 0)
            }
        }
        renderProcessMetrics(into: &out)
        return out.text
    }

    private static func renderProcessMetrics(into out: inout PrometheusText) {
        let process = ProcessMetrics.read()
        if let value = process.cpuSeconds {
            out.family("process_cpu_seconds_total", .counter, "Total user and system CPU time spent in seconds.")
            out.sample("process_cpu_seconds_total", [:], value)
        }
        if let value = process.residentBytes { out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", value) }
        if let value = process.virtualBytes { out.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", value) }
        if let value = process.openDescriptors { out.gauge("process_open_fds", "Number of open file descriptors.", value) }
        if let value = process.maxDescriptors { out.gauge("process_max_fds", "Maximum number of open file descriptors.", value) }
        if let value = process.startTimeSeconds { out.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", value) }
    }
}

/// The metrics endpoint and the loop clock it reports, present with `--metrics`.
struct MetricsEndpoint {
    let listener: MetricsListener
    let loopClock: LoopIterationClock
}
