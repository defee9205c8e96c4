import Foundation
import Testing
import ChatTestSupport

/// The page chatd serves, in a real headless Chromium: two tabs and an nc user in one room, a
/// hostile message shown as text, and the page coming back after chatd restarts.
@Suite(.serialized) struct WebPageBrowserTests {
    /// Chromium opens a spare connection beside the one it loads a page on and may send its
    /// next request (the second tab) on it later. Silent past `--protocol-wait`, that connection
    /// would be welcomed as a chat client and the page load would fail (README, "The web
    /// page"); the longest wait, with both tabs opened at once, keeps it undecided, as a reverse
    /// proxy (which sends its request at once) always does. The nc user speaks first, so it is
    /// decided at once.
    static let arguments = ["--protocol-wait", "5"]

    static let connected = "return document.getElementById('status').dataset.state === 'open' && document.getElementById('nick').value !== ''"

    static func logContains(_ text: String) -> String {
        "return document.getElementById('log').textContent.includes(\(json(text)))"
    }

    static func json(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text], options: .fragmentsAllowed), as: UTF8.self).dropFirst().dropLast().description
    }

    /// Opens the page in the current tab.
    static func open(_ browser: Browser, port: UInt16, scheme: String = "http") throws {
        try browser.open("\(scheme)://127.0.0.1:\(port)/")
    }

    /// Waits for the page in the current tab to connect, then takes `nick` by typing into the composer.
    static func take(_ browser: Browser, nick: String) throws {
        try browser.waitUntil("the page to connect", Self.connected)
        try browser.type("#input", "/nick \(nick)" + Browser.enter)
        try browser.waitUntil("the nick \(nick)", "return document.getElementById('nick').value === \(json(nick))")
    }

    @Test(.enabled(if: Browser.isAvailable)) func twoPagesAndNcExchangeLines() throws {
        let daemon = try Daemon(Self.arguments)
        let browser = try Browser()
        defer { browser.quit() }
        try Self.open(browser, port: daemon.port)
        let aliceTab = try browser.currentTab()
        let bobTab = try browser.newTab()
        try Self.open(browser, port: daemon.port)
        try Self.take(browser, nick: "bob")
        try browser.switchTo(aliceTab)
        try Self.take(browser, nick: "alice")
        try browser.switchTo(bobTab)

        let nc = try Spawned("/usr/bin/nc", ["127.0.0.1", "\(daemon.port)"])
        nc.write("/nick carol\n")
        #expect(nc.waitFor("*** welcome"))
        #expect(nc.waitFor("OK nick carol"))

        try browser.type("#input", "hi from bob" + Browser.enter)
        #expect(nc.waitFor("#lobby <bob> hi from bob"))
        try browser.switchTo(aliceTab)
        try browser.waitUntil("bob's line in alice's page", Self.logContains("hi from bob"))
        try browser.type("#input", "hi from alice" + Browser.enter)
        #expect(nc.waitFor("#lobby <alice> hi from alice"))
        nc.write("hi from carol\n")
        try browser.waitUntil("carol's line in alice's page", Self.logContains("hi from carol"))
        try browser.switchTo(bobTab)
        try browser.waitUntil("alice's and carol's lines in bob's page", "return document.getElementById('log').textContent.includes('hi from alice') && document.getElementById('log').textContent.includes('hi from carol')")
        try browser.waitUntil("carol in bob's member list", "return document.getElementById('members').textContent.includes('carol')")

        // A line that would be markup is shown as text: no element is made from it (and an
        // alert would have blocked the WebDriver commands below).
        let hostile = "<img src=x onerror=alert(1)>"
        nc.write(hostile + "\n")
        try browser.waitUntil("the hostile line as text", Self.logContains(hostile))
        #expect(try browser.run("return document.querySelectorAll('img').length") as? Int == 0)
        #expect(try browser.run("return [...document.querySelectorAll('#log .text')].some(e => e.textContent === arguments[0])", [hostile]) as? Bool == true)

        // A private message from the page to the nc user, and back.
        try browser.type("#input", "/msg carol psst" + Browser.enter)
        #expect(nc.waitFor("PM <bob> psst"))
        nc.write("/msg bob hush\n")
        try browser.waitUntil("the private conversation in the room list", "return [...document.querySelectorAll('#rooms button')].some(b => b.dataset.view === '@carol')")

        nc.closeInput()
    }

    @Test(.enabled(if: Browser.isAvailable)) func thePageReconnectsAfterARestart() throws {
        var daemon = try Daemon(Self.arguments)
        let port = daemon.port
        let browser = try Browser()
        defer { browser.quit() }
        try Self.open(browser, port: port)
        try Self.take(browser, nick: "dora")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() != nil)
        try browser.waitUntil("the page to see the server go", "return document.getElementById('status').dataset.state !== 'open'")
        #expect(try browser.run("return document.getElementById('status').textContent") as? String ?? "" != "connected")
        daemon = try Daemon(Self.arguments + ["--port", "\(port)"])
        #expect(daemon.port == port)
        try browser.waitUntil("the page to reconnect", timeout: 40, "return document.getElementById('status').dataset.state === 'open' && document.getElementById('nick').value === 'dora'")
        let client = try TestClient(port: port)
        client.send("/nick eve")
        #expect(client.waitFor { $0 == "OK nick eve" } != nil)
        client.send("/who #lobby")
        #expect(client.waitFor { $0 == "OK-who #lobby dora" } != nil, "the page took its nick back")
        client.send("welcome back")
        try browser.waitUntil("a line after the restart", Self.logContains("welcome back"))
    }

    /// wss:// on the TLS port: detection runs after the TLS handshake, so the door is the same.
    @Test(.enabled(if: Browser.isAvailable)) func thePageWorksOverTLS() throws {
        let certificates = try TLSCertificates()
        let daemon = try Daemon(Self.arguments + ["--tls-port", "0", "--tls-cert", certificates.certificate, "--tls-key", certificates.key])
        let tlsPort = try daemon.tlsPort()
        let browser = try Browser(acceptInsecureCerts: true)
        defer { browser.quit() }
        try Self.open(browser, port: tlsPort, scheme: "https")
        try Self.take(browser, nick: "tina")
        #expect(try browser.run("return location.protocol") as? String == "https:")
        let plain = try TestClient(port: daemon.port)
        plain.send("/nick plain")
        #expect(plain.waitFor { $0 == "OK nick plain" } != nil)
        try browser.type("#input", "hello over wss" + Browser.enter)
        #expect(plain.waitFor { $0 == "#lobby <tina> hello over wss" } != nil)
        plain.send("and back")
        try browser.waitUntil("the plain line over wss", Self.logContains("and back"))
        #expect(daemon.log.contains("opened a WebSocket"))
        #expect(daemon.log.contains("connected over TLS"))
    }

    /// The README's screenshot (docs/web-client.png): a room with replayed history, a topic, an
    /// action, unread lines elsewhere and a private message. Runs when CHATD_WEB_SCREENSHOT
    /// names the file to write.
    @Test(.enabled(if: Browser.isAvailable && ProcessInfo.processInfo.environment["CHATD_WEB_SCREENSHOT"] != nil))
    func theScreenshot() throws {
        let directory = NSTemporaryDirectory() + "chatd-web-shot-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try Daemon(Self.arguments + ["--db", directory + "/history.db"])
        let carol = try TestClient(port: daemon.port)
        for line in ["/nick carol", "/join #dev", "/topic #dev release on friday", "is the build green?", "/me checks the CI logs"] { carol.send(line) }
        #expect(carol.waitFor { $0.hasPrefix("OK me") } != nil)
        let bob = try TestClient(port: daemon.port)
        bob.send("/nick bob")
        #expect(bob.waitFor { $0 == "OK nick bob" } != nil)
        let browser = try Browser(width: 1000, height: 560)
        defer { browser.quit() }
        try Self.open(browser, port: daemon.port)
        try Self.take(browser, nick: "alice")
        try browser.type("#input", "/join #dev" + Browser.enter)
        try browser.waitUntil("the replayed history", Self.logContains("checks the CI logs"))
        carol.send("green now ✓ <b>all</b> tests pass")
        try browser.waitUntil("carol's live line", Self.logContains("tests pass"))
        try browser.type("#input", "great, tagging the release" + Browser.enter)
        #expect(carol.waitFor { $0.hasSuffix("tagging the release") } != nil)
        bob.send("lunch anyone?")
        bob.send("the usual place")
        carol.send("/msg alice can you review my PR after lunch?")
        try browser.waitUntil("the unread marks", "return [...document.querySelectorAll('#rooms .unread')].map(e => e.textContent).join() === '2,1'")
        let path = ProcessInfo.processInfo.environment["CHATD_WEB_SCREENSHOT"] ?? ""
        try browser.screenshot().write(to: URL(fileURLWithPath: path))
    }

    /// At phone width nothing overflows sideways, and the page works from the keyboard alone:
    /// Enter sends, Alt+Down moves to the next conversation.
    @Test(.enabled(if: Browser.isAvailable)) func phoneWidthAndKeyboardOnly() throws {
        let daemon = try Daemon(Self.arguments)
        let browser = try Browser(width: 390, height: 760)
        defer { browser.quit() }
        try Self.open(browser, port: daemon.port)
        try Self.take(browser, nick: "pat")
        try browser.type("#input", "/join #dev" + Browser.enter)
        try browser.waitUntil("#dev shown", "return document.getElementById('view-name').textContent === '#dev'")
        #expect(try browser.run("return document.documentElement.scrollWidth <= window.innerWidth") as? Bool == true, "no sideways scrolling at 390 px")
        #expect(try browser.run("return document.activeElement.id") as? String == "input", "the composer keeps the focus")
        // Alt (held) + ArrowDown, then release every modifier: #dev → next (wraps to #lobby).
        try browser.type("#input", "\u{E00A}\u{E015}\u{E000}")
        try browser.waitUntil("Alt+Down to #lobby", "return document.getElementById('view-name').textContent === '#lobby'")
    }
}
