import ChatTestSupport
import Foundation
import Testing

/// Protocol detection on the chat port: a client that talks first is decided by its first
/// bytes and sees only its own protocol; a silent nc or telnet user is welcomed once the
/// protocol wait has passed; with no wait, chatd's protocol is the only one.
@Suite struct ProtocolDetectionTests {
    @Test func aBrowserSeesNothingButHTTP() throws {
        let daemon = try Daemon(["--protocol-wait", "2"])
        let browser = try TestClient(port: daemon.port)
        browser.sendRaw(Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        #expect(browser.readLine() == "HTTP/1.1 200 OK\r", "the first bytes it gets are an HTTP status line (the web page), not a welcome")
        #expect(browser.waitForClose())
    }

    @Test func aSilentClientIsWelcomedOnceTheWaitIsOverAndOnlyThen() throws {
        let daemon = try Daemon(["--protocol-wait", "1.5"])
        let silent = try TestClient(port: daemon.port)
        #expect(silent.drain(seconds: 0.7).isEmpty, "nothing before the protocol wait has passed")
        #expect(silent.readLine()?.hasPrefix("*** welcome to chatd") == true)
        silent.send("/nick quiet")
        #expect(silent.waitFor { $0.hasPrefix("OK nick") } == "OK nick quiet")
    }

    @Test func aClientThatTalksFirstIsWelcomedAtOnceThenAnswered() throws {
        let daemon = try Daemon(["--protocol-wait", "5"])
        let talker = try TestClient(port: daemon.port)
        talker.send("/nick eager")
        // Decided by its bytes, not by the 5 s wait.
        #expect(talker.readLine(timeout: 4)?.hasPrefix("*** welcome to chatd") == true)
        #expect(talker.waitFor(timeout: 4) { $0.hasPrefix("OK nick") } == "OK nick eager")
    }

    @Test func aFewBytesThatMightBeHTTPAreChatOnceTheyCannotBe() throws {
        let daemon = try Daemon(["--protocol-wait", "5"])
        let listener = try TestClient(port: daemon.port)
        listener.send("/nick listener")
        #expect(listener.waitFor { $0.hasPrefix("OK nick") } != nil)
        let typist = try TestClient(port: daemon.port)
        typist.sendRaw(Array("GE".utf8))  // could still be "GET "
        #expect(typist.drain(seconds: 0.5).isEmpty)
        typist.sendRaw(Array("TTING READY\n".utf8))  // "GETTING READY": not a method and a space
        #expect(typist.readLine(timeout: 4)?.hasPrefix("*** welcome to chatd") == true)
        #expect(listener.waitFor(timeout: 4) { $0.hasPrefix("#lobby <") }?.hasSuffix("> GETTING READY") == true,
                "the bytes kept while undecided are the start of the first line")
    }

    @Test func aScriptThatSendsHalfAnOpeningAndClosesIsStillChat() throws {
        let daemon = try Daemon(["--protocol-wait", "5"])
        let listener = try TestClient(port: daemon.port)
        listener.send("/nick listener")
        #expect(listener.waitFor { $0.hasPrefix("OK nick") } != nil)
        let script = try Spawned("/bin/sh", ["-c", "printf GE | nc -N 127.0.0.1 \(daemon.port)"])
        #expect(script.waitForExit() == 0)
        #expect(listener.waitFor(timeout: 4) { $0.hasPrefix("#lobby <") }?.hasSuffix("> GE") == true,
                "its end of input decides: chatd's protocol, and the unfinished line still counts")
    }

    @Test func sighupShortensTheWaitForThoseAlreadyWaiting() throws {
        let config = NSTemporaryDirectory() + "chatd-wait-\(UUID().uuidString).conf"
        defer { unlink(config) }
        try "protocol-wait = 5\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["--config", config])
        let silent = try TestClient(port: daemon.port)
        #expect(silent.drain(seconds: 0.5).isEmpty)
        try "protocol-wait = 0.1\n".write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(silent.readLine(timeout: 3)?.hasPrefix("*** welcome to chatd") == true, "well before the old 5 s")
    }

    @Test func withNoWaitTheWelcomeComesFirstAndHTTPIsStillRefused() throws {
        let daemon = try Daemon(["--protocol-wait", "0"])
        let browser = try TestClient(port: daemon.port)
        #expect(browser.readLine()?.hasPrefix("*** welcome to chatd") == true)
        browser.sendRaw(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(browser.waitFor { $0.hasPrefix("HTTP/1.0 400") } != nil)
        #expect(browser.waitForClose())
    }
}
