import ChatTestSupport
import Foundation
import Glibc
import Testing

/// `--log-format json` against the real binary: every line chatd writes to stderr is one JSON
/// object with time, level and message, and connection events carry their fields.
@Suite struct JSONLogTests {
    @Test func everyLogLineParsesAndDisconnectsSayWhoWhyAndHowManyAreLeft() throws {
        let daemon = try Daemon(["--log-format", "json", "--metrics", "127.0.0.1:0"])
        let alice = try daemon.client(named: "alice")
        let bob = try daemon.client(named: "bob")
        alice.send("/quit lunch")
        #expect(alice.waitForClose())
        let browser = try TestClient(port: daemon.port)
        browser.sendRaw(Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))  // a whole request: the page, then the close
        #expect(browser.waitForClose())
        bob.reset()
        #expect(daemon.waitForLog("\"reason\":\"reset\""))
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)

        let lines = daemon.log.split(separator: "\n")
        #expect(lines.count >= 10)
        var objects: [[String: Any]] = []
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                Issue.record("not a JSON object: \(line)")
                continue
            }
            #expect(object["time"] is String && object["level"] is String && object["message"] is String, "\(line)")
            objects.append(object)
        }
        let disconnects = objects.filter { ($0["message"] as? String)?.contains(" disconnected: ") == true }
        #expect(Set(disconnects.compactMap { $0["reason"] as? String }) == ["quit", "http", "reset"])
        #expect(disconnects.allSatisfy { ($0["client"] as? String)?.hasPrefix("127.0.0.1:") == true && $0["clients"] is Int })
        #expect(disconnects.last?["clients"] as? Int == 0)
        let connects = objects.filter { ($0["message"] as? String)?.contains(" connected; ") == true }
        #expect(connects.count == 3 && connects.first?["clients"] as? Int == 1)
        #expect(objects.contains { $0["level"] as? String == "notice" && ($0["message"] as? String)?.hasPrefix("chatd listening on") == true })
    }
}
