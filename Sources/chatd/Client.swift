import ArgumentParser
import ChatIO
import Glibc

/// `chatd client [HOST:PORT]`: a line-mode client on the same reactor as the server.
struct Client: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Connect to a chatd server: stdin lines go to it, its lines go to stdout.")

    @Argument(help: "Server address as HOST:PORT ([::1]:7878 for IPv6).")
    var server = "127.0.0.1:7878"

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        guard let colon = server.lastIndex(of: ":"), let port = UInt16(server[server.index(after: colon)...]) else {
            throw ValidationError("expected HOST:PORT, got \"\(server)\"")
        }
        let host = String(server[..<colon])
        do {
            let reactor = try Reactor.makeDefault()
            let client = try ChatClient(reactor: reactor, host: host, port: port)
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
