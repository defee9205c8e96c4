import ArgumentParser
import ChatIO
import EventIO
import Glibc

/// `chatd client [HOST:PORT]`: a line-mode client on the same reactor as the server.
struct Client: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Connect to a chatd server: stdin lines go to it, its lines go to stdout.")

    @Argument(help: "Server address as HOST:PORT ([::1]:7878 for IPv6).")
    var server = "127.0.0.1:7878"

    @Flag(help: "Connect with TLS; the server's certificate and host name are checked against the system's certificate store.")
    var tls = false

    @Option(help: "With --tls: trust the CA certificate(s) in this PEM file instead of the system store (a private CA).")
    var ca: String?

    @Flag(help: "With --tls: do NOT check the server's certificate. Anyone on the path can then read and change the session.")
    var insecure = false

    func validate() throws {
        if !tls && (ca != nil || insecure) { throw ValidationError("--ca and --insecure need --tls") }
        if ca != nil && insecure { throw ValidationError("--ca and --insecure contradict each other") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        guard let colon = server.lastIndex(of: ":"), let port = UInt16(server[server.index(after: colon)...]) else {
            throw ValidationError("expected HOST:PORT, got \"\(server)\"")
        }
        let host = String(server[..<colon])
        do {
            var context: TLSClientContext?
            if tls {
                if insecure {
                    writeLineToStandardError("chatd client: WARNING: --insecure: the server's certificate is NOT checked; anyone on the network path can read and change this session")
                }
                context = try TLSClientContext(verification: insecure ? .none : ca.map { .authority(path: $0) } ?? .systemStore)
            }
            let reactor = try Reactor.makeDefault()
            let client = try ChatClient(reactor: reactor, host: host, port: port, tls: context)
            let status = client.run()
            if status != 0 { throw ExitCode(status) }
        } catch let error as ExitCode {
            throw error
        } catch {
            writeLineToStandardError("chatd client: \(error)")
            throw ExitCode(1)
        }
    }
}
