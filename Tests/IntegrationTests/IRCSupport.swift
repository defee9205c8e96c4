import ChatTestSupport
import Foundation

/// An IRC connection for protocol tests: raw lines out (CR LF added), lines in without CR.
final class IRCTestClient {
    let client: TestClient

    init(port: UInt16) throws { client = try TestClient(port: port) }

    /// Connects and registers as `nick`, reading up to the end of the welcome burst (376/422).
    static func registered(_ nick: String, port: UInt16, caps: String? = nil) throws -> IRCTestClient {
        let irc = try IRCTestClient(port: port)
        if let caps {
            irc.send("CAP LS 302")
            irc.send("CAP REQ :\(caps)")
        }
        irc.send("NICK \(nick)")
        irc.send("USER \(nick) 0 * :\(nick) test")
        if caps != nil { irc.send("CAP END") }
        guard irc.client.waitFor({ $0.contains(" 422 ") || $0.contains(" 376 ") || $0.hasPrefix("ERROR") }) != nil else {
            throw TestError("\(nick) did not register")
        }
        return irc
    }

    func send(_ line: String) { client.sendRaw(Array((line + "\r\n").utf8)) }

    func sendRaw(_ bytes: [UInt8]) { client.sendRaw(bytes) }

    /// The next line containing `fragment` (CR removed), or nil within `timeout`.
    @discardableResult
    func expect(_ fragment: String, timeout: Double = 10) -> String? {
        client.waitFor(timeout: timeout) { $0.contains(fragment) }.map(Self.trim)
    }

    func readLine(timeout: Double = 10) -> String? { client.readLine(timeout: timeout).map(Self.trim) }

    func drain(seconds: Double) -> [String] { client.drain(seconds: seconds).map(Self.trim) }

    /// Sends PING and returns every line up to its PONG: a barrier that also proves the
    /// connection still works.
    func sync(_ token: String = "sync") -> [String]? {
        send("PING \(token)")
        var lines: [String] = []
        while let line = readLine() {
            if line.hasSuffix("PONG chatd \(token)") { return lines }
            lines.append(line)
        }
        return nil
    }

    func waitForClose() -> Bool { client.waitForClose() }

    private static func trim(_ line: String) -> String { line.hasSuffix("\r") ? String(line.dropLast()) : line }
}
