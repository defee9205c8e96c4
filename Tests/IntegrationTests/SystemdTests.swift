import ChatTestSupport
import Foundation
import Glibc
import Testing

/// chatd under systemd's protocols, without systemd running: notifications captured from a
/// test NOTIFY_SOCKET, socket activation through Debian's `systemd-socket-activate`, and the
/// unit files checked by `systemd-analyze` after `scripts/install` put them in a prefix.
@Suite struct SystemdTests {
    @Test(arguments: [false, true])
    func notificationsSayReadyAfterBindWatchdogWhileRunningAndStoppingOnSigterm(abstract: Bool) throws {
        let receiver = try NotifyReceiver(abstract: abstract)
        defer { receiver.close() }
        let daemon = try Daemon([], environment: ["NOTIFY_SOCKET": receiver.name, "WATCHDOG_USEC": "200000"])
        let ready = try #require(receiver.next(timeout: 10))
        #expect(ready.hasPrefix("READY=1\n"), "the first notification is READY: \(ready)")
        #expect(ready.contains("STATUS=0 clients; serving on 127.0.0.1:\(daemon.port)"), "\(ready)")
        let client = try TestClient(port: daemon.port)  // the port named in READY accepts at once
        #expect(client.readLine()?.hasPrefix("*** welcome") == true)
        var watchdogs = 0
        var sawClientCount = false
        let deadline = now() + 10
        while (watchdogs < 3 || !sawClientCount) && now() < deadline, let message = receiver.next(timeout: 2) {
            if message.contains("WATCHDOG=1") { watchdogs += 1 }
            if message.contains("STATUS=1 clients;") { sawClientCount = true }
        }
        #expect(watchdogs >= 3, "watchdog pings every 0.1 s while running")
        #expect(sawClientCount, "STATUS follows the client count")
        daemon.signal(SIGTERM)
        var stopping: String?
        while stopping == nil, let message = receiver.next(timeout: 10) {
            if message.contains("STOPPING=1") { stopping = message }
        }
        #expect(stopping?.contains("STATUS=shutting down (SIGTERM); 1 clients to notify") == true, "\(stopping ?? "no STOPPING")")
        #expect(daemon.waitForExit() == 0)
    }

    @Test func aBrokenNotifySocketIsAWarningNotAnOutage() throws {
        let daemon = try Daemon([], environment: ["NOTIFY_SOCKET": "not/absolute"])
        #expect(daemon.log.contains("systemd notifications off: NOTIFY_SOCKET(not/absolute"))
        let client = try daemon.client(named: "alice")
        client.send("/ping")
        #expect(client.waitFor { $0.hasPrefix("OK pong") } != nil)
    }

    @Test func socketActivationWithSystemdSocketActivateServesChatAndMetrics() throws {
        let chat = try Self.freePort()
        let metrics = try Self.freePort()
        let activator = try Spawned("/usr/bin/systemd-socket-activate", [
            "-l", "127.0.0.1:\(chat)", "-l", "127.0.0.1:\(metrics)", "--fdname=chat:metrics",
            Daemon.binary, "--no-history", "--log-level", "info", "--port", "1",
        ])
        defer { _ = activator.waitForExit(timeout: 0) }
        #expect(activator.waitFor("Listening on 127.0.0.1:\(metrics)", inErrors: true))
        let alice = try TestClient(port: chat)  // this connection starts chatd on the passed sockets
        #expect(alice.waitFor { $0.hasPrefix("*** welcome") } != nil)
        alice.send("/nick alice")
        #expect(alice.waitFor { $0.hasPrefix("OK nick") } == "OK nick alice")
        let bob = try TestClient(port: chat)
        #expect(bob.waitFor { $0.hasPrefix("*** welcome") } != nil)
        bob.send("hello alice")
        #expect(alice.waitFor { $0.hasPrefix("#lobby") }?.hasSuffix("hello alice") == true)
        let scrape = try HTTPProbe.get(port: metrics, "/metrics")
        #expect(scrape.status == 200 && MetricsScrape(text: scrape.body)["chatd_connections_accepted_total"] == 2)
        #expect(activator.errorOutput.contains("socket activation: serving the socket systemd passed"))
        #expect(!activator.errorOutput.contains("127.0.0.1:1"), "--port is not used when a socket is passed")
        kill(activator.pid, SIGTERM)  // systemd-socket-activate exec'd chatd: same process
        #expect(activator.waitForExit() == 0)
    }

    @Test func theInstalledUnitsPassSystemdAnalyzeVerifyAndAreHardened() throws {
        let prefix = NSTemporaryDirectory() + "chatd-install-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let install = try Spawned(Self.repository + "/scripts/install", [prefix], environment: ["CHATD_BINARY": Daemon.binary])
        #expect(install.waitForExit(timeout: 60) == 0, "\(install.errorOutput)")
        for file in ["bin/chatd", "share/man/man8/chatd.8", "lib/systemd/system/chatd.service", "lib/systemd/system/chatd.socket"] {
            #expect(FileManager.default.fileExists(atPath: "\(prefix)/\(file)"), "\(file) installed")
        }
        let service = try String(contentsOfFile: prefix + "/lib/systemd/system/chatd.service", encoding: .utf8)
        #expect(service.contains("ExecStart=\(prefix)/bin/chatd "), "ExecStart points at the installed binary")
        for directive in ["Type=notify", "WatchdogSec=", "StateDirectory=chatd", "LimitNOFILE=", "DynamicUser=yes", "ProtectSystem=strict",
                          "NoNewPrivileges=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n"] {
            #expect(service.contains(directive), "the unit has \(directive)")
        }
        // Documentation=man:chatd(8) is checked too: MANPATH finds the installed page.
        let units = ["\(prefix)/lib/systemd/system/chatd.service", "\(prefix)/lib/systemd/system/chatd.socket"]
        let verify = try Spawned("/usr/bin/systemd-analyze", ["verify"] + units, environment: ["MANPATH": prefix + "/share/man"])
        #expect(verify.waitForExit(timeout: 60) == 0)
        #expect(verify.output.isEmpty && verify.errorOutput.isEmpty, "no findings: \(verify.output)\(verify.errorOutput)")
        let security = try Spawned("/usr/bin/systemd-analyze", ["security", "--offline=yes", units[0]], environment: ["MANPATH": prefix + "/share/man"])
        _ = security.waitForExit(timeout: 60)
        let level = security.output.range(of: #"Overall exposure level for chatd.service: [0-9.]+"#, options: .regularExpression)
            .flatMap { Double(security.output[$0].split(separator: " ").last ?? "") }
        #expect((level ?? 10) <= 2.0, "systemd-analyze security rates the unit OK or better: \(level.map { "\($0)" } ?? security.output)")
    }

    static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static func freePort() throws -> UInt16 {
        let probe = try TestSocket.listen()
        close(probe.fd)
        return probe.port
    }
}

/// The receiving end of `$NOTIFY_SOCKET`: a datagram socket at a path or an abstract name.
final class NotifyReceiver {
    let fd: Int32
    let name: String
    private let path: String?

    init(abstract: Bool) throws {
        let unique = "chatd-notify-\(UUID().uuidString.prefix(8))"
        path = abstract ? nil : NSTemporaryDirectory() + unique
        name = abstract ? "@" + unique : path!
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        if fd < 0 { throw TestError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        if bound != 0 { throw TestError("bind \(name): errno \(errno)") }
    }

    /// The next notification, or nil at the deadline.
    func next(timeout: Double) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    func close() {
        Glibc.close(fd)
        if let path { unlink(path) }
    }
}
