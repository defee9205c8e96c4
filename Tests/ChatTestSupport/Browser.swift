import Foundation

/// A real headless Chromium for tests, driven over WebDriver (Debian's `chromium` and
/// `chromium-driver`): the test starts `chromedriver` on a free port, which starts Chromium with
/// a private temporary profile; `quit()` (also run by `deinit`) ends the session, stops
/// chromedriver and any Chromium it left by PID, and removes the profile.
///
/// WebDriver is plain JSON over HTTP, spoken here with one short HTTP/1.1 exchange per command
/// (`Connection: close`), so the harness needs nothing beyond sockets.
public final class Browser: @unchecked Sendable {
    public static let chromium = "/usr/bin/chromium"
    public static let chromedriver = "/usr/bin/chromedriver"
    /// WebDriver's key for an element reference in JSON.
    static let elementKey = "element-6066-11e4-a52e-4f735466cecf"
    /// WebDriver's code point for the Enter key.
    public static let enter = "\u{E007}"

    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: chromium) && FileManager.default.isExecutableFile(atPath: chromedriver)
    }

    public let driver: Spawned
    let driverPort: UInt16
    public let profile: String
    var session = ""
    private var quitted = false

    /// `width`×`height` is the window (the page is laid out for it; screenshots have its size).
    /// `acceptInsecureCerts` lets it open `https://` pages whose certificate it cannot verify
    /// (the tests' throwaway CA is not in Chromium's store).
    public init(width: Int = 1100, height: Int = 720, acceptInsecureCerts: Bool = false) throws {
        profile = NSTemporaryDirectory() + "chatd-chromium-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: false)
        // A free port, taken by chromedriver a moment later; if something else took it in
        // between, chromedriver says so and another port is tried. Nothing connects before
        // chromedriver says it listens (a connect to a closed port can self-connect on loopback).
        var started: (Spawned, UInt16)?
        var failures: [String] = []
        for _ in 0..<3 where started == nil {
            let listener = try TestSocket.listen()
            close(listener.fd)
            let candidate = try Spawned(Self.chromedriver, ["--port=\(listener.port)", "--allowed-ips=127.0.0.1"])
            if candidate.waitFor("started successfully", timeout: 20) {
                started = (candidate, listener.port)
            } else {
                failures.append(candidate.output + candidate.errorOutput)
                kill(candidate.pid, SIGKILL)
                _ = candidate.waitForExit(timeout: 5)
            }
        }
        guard let (spawned, port) = started else {
            try? FileManager.default.removeItem(atPath: profile)
            throw TestError("chromedriver did not start: \(failures.joined(separator: " | "))")
        }
        driver = spawned
        driverPort = port
        var arguments = ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)"]
        if getuid() == 0 { arguments.append("--no-sandbox") }  // Chromium refuses to run its sandbox as root
        let capabilities: [String: Any] = [
            "capabilities": ["alwaysMatch": ["browserName": "chrome", "acceptInsecureCerts": acceptInsecureCerts, "goog:chromeOptions": ["binary": Self.chromium, "args": arguments]]]
        ]
        do {
            let answer = try command("POST", "/session", capabilities, timeout: 60)
            guard let value = answer["value"] as? [String: Any], let id = value["sessionId"] as? String else {
                throw TestError("no WebDriver session: \(answer)")
            }
            session = id
        } catch {
            cleanUp()
            throw error
        }
    }

    deinit { quit() }

    /// Ends the session (Chromium exits), stops chromedriver and any child left, removes the profile.
    public func quit() {
        if quitted { return }
        quitted = true
        if !session.isEmpty { _ = try? command("DELETE", "/session/\(session)", timeout: 20) }
        cleanUp()
    }

    private func cleanUp() {
        // Every descendant, not only chromedriver's children: Chromium's zygote, renderers and
        // helpers are its grandchildren and must not outlive a test either.
        var leftovers: [Int32] = []
        var parents = [driver.pid]
        while let parent = parents.popLast() {
            let children = Self.children(of: parent)
            leftovers += children
            parents += children
        }
        // SIGKILL at once: Foundation's children inherit a blocked SIGTERM (see Spawned), and
        // the session is already closed, so chromedriver has nothing to tidy.
        kill(driver.pid, SIGKILL)
        _ = driver.waitForExit(timeout: 5)
        for pid in leftovers where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: profile)
    }

    /// Processes whose parent is `pid` (Chromium's main process is chromedriver's child).
    static func children(of pid: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    /// The body of one HTTP answer, by its Content-Length (chromedriver keeps the connection
    /// open whatever the request says, so reading to the close would wait for the deadline).
    static func readAnswer(_ client: TestClient, timeout: Double, what: String) throws -> Data {
        var bytes: [UInt8] = []
        let deadline = now() + timeout
        while now() < deadline {
            if let split = bytes.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: bytes[..<split.lowerBound], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
                if let length, bytes.count - split.upperBound >= length {
                    return Data(bytes[split.upperBound..<(split.upperBound + length)])
                }
            }
            var poller = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 100) <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(client.fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        throw TestError("no whole WebDriver answer to \(what)")
    }

    // MARK: Commands

    /// Opens `url` in the current tab and waits for it to load.
    public func open(_ url: String) throws {
        _ = try sessionCommand("POST", "/url", ["url": url], timeout: 60)
    }

    /// Opens a new tab and makes it current; returns its handle.
    @discardableResult
    public func newTab() throws -> String {
        let answer = try sessionCommand("POST", "/window/new", ["type": "tab"])
        guard let value = answer["value"] as? [String: Any], let handle = value["handle"] as? String else { throw TestError("no new tab: \(answer)") }
        try switchTo(handle)
        return handle
    }

    public func currentTab() throws -> String {
        guard let handle = try sessionCommand("GET", "/window")["value"] as? String else { throw TestError("no window handle") }
        return handle
    }

    public func switchTo(_ handle: String) throws {
        _ = try sessionCommand("POST", "/window", ["handle": handle])
    }

    /// Runs `script` (a function body: `return …`) in the page; its JSON-able result.
    @discardableResult
    public func run(_ script: String, _ arguments: [Any] = []) throws -> Any? {
        let value = try sessionCommand("POST", "/execute/sync", ["script": script, "args": arguments])["value"]
        return value is NSNull ? nil : value
    }

    /// Polls `script` until it returns true, or throws at the deadline with `what`.
    public func waitUntil(_ what: String, timeout: Double = 20, _ script: String) throws {
        let deadline = now() + timeout
        while now() < deadline {
            if (try? run(script)) as? Bool == true { return }
            usleep(100_000)
        }
        let page = (try? run("return document.body ? document.body.innerText.slice(0, 600) : ''")) as? String ?? ""
        throw TestError("browser: timed out waiting for \(what); the page shows: \(page)")
    }

    /// Types `text` into the element matching `selector` the way a keyboard would.
    public func type(_ selector: String, _ text: String) throws {
        let found = try sessionCommand("POST", "/element", ["using": "css selector", "value": selector])
        guard let value = found["value"] as? [String: Any], let element = value[Self.elementKey] as? String else { throw TestError("no element \(selector): \(found)") }
        _ = try sessionCommand("POST", "/element/\(element)/value", ["text": text])
    }

    /// A PNG of the current tab's viewport.
    public func screenshot() throws -> Data {
        guard let text = try sessionCommand("GET", "/screenshot", timeout: 30)["value"] as? String, let data = Data(base64Encoded: text) else {
            throw TestError("no screenshot")
        }
        return data
    }

    public func sessionCommand(_ method: String, _ path: String, _ body: [String: Any]? = nil, timeout: Double = 30) throws -> [String: Any] {
        try command(method, "/session/\(session)\(path)", body, timeout: timeout)
    }

    /// One WebDriver command: an HTTP/1.1 request with `Connection: close`, the JSON answer.
    /// A WebDriver error (`value.error`) is thrown with its message.
    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil, timeout: Double = 30) throws -> [String: Any] {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        var request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(driverPort)\r\nConnection: close\r\n".utf8)
        if body != nil { request += Array("Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n".utf8) }
        request += Array("\r\n".utf8) + Array(payload)
        let client = try TestClient(port: driverPort)
        defer { client.close() }
        client.sendRaw(request)
        let json = try Self.readAnswer(client, timeout: timeout, what: "\(method) \(path)")
        guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else { throw TestError("WebDriver answer is not an object") }
        if let value = object["value"] as? [String: Any], let error = value["error"] as? String {
            throw TestError("WebDriver \(method) \(path): \(error): \((value["message"] as? String)?.prefix(300) ?? "")")
        }
        return object
    }
}
