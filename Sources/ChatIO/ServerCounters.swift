import EventIO

/// The I/O layer's running totals for the metrics endpoint. Plain integers on the loop thread,
/// each one add where its event happens (per accept, per read, per write, per hand-over:
/// never per delivery); the endpoint reads them when Prometheus scrapes.
struct ServerCounters {
    /// Connections admitted as clients.
    var accepted: UInt64 = 0
    /// Connections closed at accept with one error line, by why.
    var refusedServerFull: UInt64 = 0
    var refusedPerAddress: UInt64 = 0
    var refusedShuttingDown: UInt64 = 0
    /// Shed by the reserve-descriptor trick when the process was out of descriptors.
    var refusedNoDescriptors: UInt64 = 0
    /// Bytes read from and written to client sockets.
    var bytesReceived: UInt64 = 0
    var bytesSent: UInt64 = 0
    /// History lines handed to the writer thread.
    var historyLinesQueued: UInt64 = 0
    /// Password jobs (hash or verify) handed to the hashing thread.
    var passwordJobsQueued: UInt64 = 0
}
