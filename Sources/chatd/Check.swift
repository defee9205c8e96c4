import ArgumentParser
import ChatCore
import ChatIO
import EventIO

/// `chatd check [HOST:PORT]`: a health check for load balancers, systemd and scripts. Connects,
/// sends `/ping`, and exits 0 with one line on stdout when the pong arrives in time, or 1 with
/// one line on stderr saying what went wrong.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that a chatd server answers: connect, /ping, exit 0 (healthy) or 1, with one line."
    )

    /// The longest `--timeout` accepted.
    static let maxTimeout = 3600.0

    @Argument(help: "Server address as HOST:PORT ([::1]:7878 for IPv6).")
    var server = "127.0.0.1:7878"

    @Option(help: "Seconds to wait for the connection and the answer together.")
    var timeout = 5.0

    func validate() throws {
        guard timeout > 0 && timeout <= Self.maxTimeout else { throw ValidationError("--timeout must be more than 0 and at most \(Int(Self.maxTimeout)) seconds") }
        guard HostPort.parse(server) != nil else { throw ValidationError("expected HOST:PORT, got \"\(server)\"") }
    }

    func run() throws {
        guard let (host, port) = HostPort.parse(server) else { throw ExitCode(2) }
        switch HealthCheck.run(host: host, port: port, timeout: timeout) {
        case .healthy(let seconds):
            print("chatd check: \(server) OK (pong in \(Int((seconds * 1000).rounded())) ms)")
        case .unhealthy(let reason):
            writeLineToStandardError("chatd check: \(server) FAILED: \(reason)")
            throw ExitCode(1)
        }
    }
}
