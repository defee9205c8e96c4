import ChatTestSupport
import Foundation
import Glibc
import Testing

/// TLS end to end: the real binary, certificates made at test time by the `openssl` command,
/// real `openssl s_client` sessions next to plaintext `nc` clients, and `chatd client --tls`.
@Suite(.serialized) struct TLSTests {
    /// A TLS daemon with the test certificate; `extra` options are added.
    private func tlsDaemon(_ certificates: TLSCertificates, _ extra: [String] = [],
                           certificate: String? = nil, key: String? = nil) throws -> (Daemon, UInt16) {
        let daemon = try Daemon(["--tls-port", "0", "--tls-cert", certificate ?? certificates.certificate,
                                 "--tls-key", key ?? certificates.key] + extra)
        return (daemon, try daemon.tlsPort())
    }

    /// A real `openssl s_client` session that checks the server against the test CA. Its stdin
    /// lines go to the server (command letters off); what it prints of the session is on stderr.
    private func sClient(_ port: UInt16, _ certificates: TLSCertificates, commands: Bool = false) throws -> Spawned {
        try Spawned(TLSCertificates.openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-brief", "-CAfile", certificates.authority,
                                              "-verify_return_error", "-verify_ip", "127.0.0.1"] + (commands ? [] : ["-nocommands"]))
    }

    @Test func tlsAndPlaintextClientsTalkInOneRoomWhateverTheirProtocol() throws {
        let certificates = try TLSCertificates()
        let (daemon, tlsPort) = try tlsDaemon(certificates)
        let secure = try sClient(tlsPort, certificates, commands: true)
        #expect(secure.waitFor("*** welcome"), "the welcome arrives over TLS")
        #expect(secure.waitFor("Verification: OK", inErrors: true), "s_client verified the server against the test CA")
        secure.write("/nick secure\n")
        #expect(secure.waitFor("OK nick secure"))
        let plain = try Spawned("/usr/bin/nc", ["127.0.0.1", "\(daemon.port)"])
        plain.write("/nick plain\n")
        #expect(plain.waitFor("OK nick plain"))

        secure.write("hello from tls\n")
        #expect(plain.waitFor("#lobby <secure> hello from tls"), "plaintext nc got the TLS client's line")
        plain.write("hello from nc\n")
        #expect(secure.waitFor("#lobby <plain> hello from nc"), "the TLS client got the plaintext line")

        // A TLS 1.3 KeyUpdate asking for ours: the transport answers it on its own, and the
        // session goes on in both directions.
        secure.write("K\n")
        #expect(secure.waitFor("KEYUPDATE", inErrors: true))
        secure.write("after the key update\n")
        #expect(plain.waitFor("#lobby <secure> after the key update"))
        plain.write("still readable\n")
        #expect(secure.waitFor("#lobby <plain> still readable"))

        // A seed protocol over TLS: framing sits above the transport, so it just works.
        let seed = try sClient(tlsPort, certificates)
        #expect(seed.waitFor("*** welcome"))
        seed.write("JOIN:seedy\n")
        #expect(seed.waitFor("SERVER:nick seedy"), "the tcp-chat client took its name")
        plain.write("hi seed\n")
        #expect(seed.waitFor("SAY:plain:hi seed"), "the tcp-chat client reads its own protocol over TLS")
        #expect(daemon.log.contains("connected over TLSv1.3"))
    }

    @Test func clientModeVerifiesTheCertificateAndTheHostName() throws {
        let certificates = try TLSCertificates()
        let (daemon, tlsPort) = try tlsDaemon(certificates)
        defer { withExtendedLifetime(daemon) {} }
        for host in ["127.0.0.1", "localhost"] {
            let client = try Spawned(Daemon.binary, ["client", "--tls", "--ca", certificates.authority, "\(host):\(tlsPort)"])
            client.write("/users\n")
            client.closeInput()
            #expect(client.waitFor("OK users 1 online"), "\(host): \(client.errorOutput)")
            #expect(client.waitForExit() == 0)
        }
        // By default only the system store is trusted, which does not know the test CA.
        let untrusting = try Spawned(Daemon.binary, ["client", "--tls", "127.0.0.1:\(tlsPort)"])
        #expect(untrusting.waitForExit() == 1)
        #expect(untrusting.errorOutput.contains("certificate verify failed: unable to get local issuer certificate"), "\(untrusting.errorOutput)")
        #expect(!untrusting.output.contains("welcome"))
        // --insecure connects, and says loudly what it gave up.
        let insecure = try Spawned(Daemon.binary, ["client", "--tls", "--insecure", "127.0.0.1:\(tlsPort)"])
        insecure.closeInput()
        #expect(insecure.waitFor("*** welcome"))
        #expect(insecure.errorOutput.contains("WARNING: --insecure"))
        #expect(insecure.waitForExit() == 0)
    }

    @Test func aCertificateForAnotherHostIsRefusedByTheClient() throws {
        let certificates = try TLSCertificates()
        let (daemon, tlsPort) = try tlsDaemon(certificates, certificate: certificates.wrongHostCertificate, key: certificates.wrongHostKey)
        defer { withExtendedLifetime(daemon) {} }
        for host in ["127.0.0.1", "localhost"] {
            let client = try Spawned(Daemon.binary, ["client", "--tls", "--ca", certificates.authority, "\(host):\(tlsPort)"])
            client.write("/users\n")
            #expect(client.waitForExit() == 1)
            #expect(client.errorOutput.contains("certificate verify failed:"), "\(client.errorOutput)")
            #expect(client.errorOutput.contains("mismatch"), "the reason names the host: \(client.errorOutput)")
            #expect(!client.output.contains("welcome"), "nothing was read from a server that failed the check")
        }
    }

    @Test func sighupServesTheRenewedCertificateToNewHandshakesWhileOpenSessionsGoOn() throws {
        let certificates = try TLSCertificates()
        let live = certificates.directory + "/live"
        try certificates.install(certificate: certificates.certificate, key: certificates.key, at: live)
        let (daemon, tlsPort) = try tlsDaemon(certificates, certificate: live + ".pem", key: live + ".key")
        let early = try sClient(tlsPort, certificates)
        #expect(early.waitFor("Peer certificate: CN = chatd-test-server", inErrors: true))
        early.write("/nick early\n")
        #expect(early.waitFor("OK nick early"))

        try certificates.install(certificate: certificates.renewedCertificate, key: certificates.renewedKey, at: live)
        daemon.signal(SIGHUP)
        #expect(daemon.waitForLog("TLS certificate loaded from \(live).pem: /CN=chatd-test-renewed"))
        let late = try sClient(tlsPort, certificates)
        #expect(late.waitFor("Peer certificate: CN = chatd-test-renewed", inErrors: true), "the next handshake got the renewed certificate")
        late.write("/nick late\n")
        #expect(late.waitFor("OK nick late"))
        early.write("still here\n")
        #expect(late.waitFor("#lobby <early> still here"), "the session from before the reload keeps talking")
        late.write("welcome back\n")
        #expect(early.waitFor("#lobby <late> welcome back"))

        // A renewal caught half-written (a certificate with another certificate's key) is
        // refused whole, with one line, and the renewed pair keeps serving.
        try certificates.install(certificate: certificates.certificate, key: certificates.renewedKey, at: live)
        daemon.signal(SIGHUP)
        #expect(daemon.waitForLog("keeping the current TLS certificate (/CN=chatd-test-renewed"))
        #expect(daemon.log.components(separatedBy: "keeping the current TLS certificate").count == 2, "one log line")
        let third = try sClient(tlsPort, certificates)
        #expect(third.waitFor("Peer certificate: CN = chatd-test-renewed", inErrors: true))
        #expect(third.waitFor("*** welcome"))
    }

    /// A renewed certificate must not wait for someone to fix an unrelated typo: a SIGHUP
    /// whose config file is refused still loads the renewed pair (certbot's deploy hook sends
    /// SIGHUP whatever else is on the disk).
    @Test func aRefusedConfigFileDoesNotHoldBackTheRenewedCertificate() throws {
        let certificates = try TLSCertificates()
        let live = certificates.directory + "/live"
        try certificates.install(certificate: certificates.certificate, key: certificates.key, at: live)
        let config = certificates.directory + "/chatd.conf"
        try "max-line-rate = 20\n".write(toFile: config, atomically: true, encoding: .utf8)
        let (daemon, tlsPort) = try tlsDaemon(certificates, ["--config", config], certificate: live + ".pem", key: live + ".key")
        try "max-line-rate = twenty\n".write(toFile: config, atomically: true, encoding: .utf8)
        try certificates.install(certificate: certificates.renewedCertificate, key: certificates.renewedKey, at: live)
        daemon.signal(SIGHUP)
        #expect(daemon.waitForLog("keeping the current settings"))
        #expect(daemon.waitForLog("TLS certificate loaded from \(live).pem: /CN=chatd-test-renewed"))
        let late = try sClient(tlsPort, certificates)
        #expect(late.waitFor("Peer certificate: CN = chatd-test-renewed", inErrors: true), "the next handshake got the renewed certificate")
    }

    @Test func aStalledTLSReaderIsCutByTheOutputLimitsWhileOthersReceiveEverything() throws {
        let certificates = try TLSCertificates()
        let (daemon, tlsPort) = try tlsDaemon(certificates, ["--max-line-rate", "0", "--output-hard-limit", "262144",
                                                             "--output-soft-limit", "131072"])
        // The stalled reader: s_client whose stdout nobody reads, so once the pipe is full it
        // stops reading its socket, and the server's ciphertext backlog for it grows.
        let stalled = Process()
        stalled.executableURL = URL(fileURLWithPath: TLSCertificates.openssl)
        stalled.arguments = ["s_client", "-connect", "127.0.0.1:\(tlsPort)", "-quiet", "-nocommands"]
        let stalledInput = Pipe()
        let unread = Pipe()
        stalled.standardInput = stalledInput
        stalled.standardOutput = unread
        stalled.standardError = FileHandle.nullDevice
        try stalled.run()
        defer {
            if stalled.isRunning { kill(stalled.processIdentifier, SIGKILL) }
            stalled.waitUntilExit()
        }
        stalledInput.fileHandleForWriting.write(Data("/nick stalled\n".utf8))
        let secure = try sClient(tlsPort, certificates)
        secure.write("/nick secure\n")
        #expect(secure.waitFor("OK nick secure"))
        let listener = try daemon.client(named: "listener")
        // Whichever finishes last, both TLS clients' handshakes are logged (the plaintext
        // listener may connect before or after either, so the connected count is not fixed).
        #expect(daemon.waitForLog("TLS_AES_128_GCM_SHA256);", times: 2), "both TLS clients finished their handshakes")
        let talker = try daemon.client(named: "talker")
        let payload = String(repeating: "z", count: 1000)
        let messages = 6000  // 6 MB: more than the kernel and pipe buffers plus the hard limit
        var next = 0
        var sawQuit = false
        for index in 0..<messages {
            talker.send("\(index) \(payload)")
            if index % 200 == 199 {
                while next <= index - 100, let line = listener.readLine(timeout: 10) {
                    if line.hasPrefix("#lobby <talker> ") { next += 1 }
                    if line == "*** stalled quit (connection lost)" { sawQuit = true }
                }
            }
        }
        while next < messages, let line = listener.readLine(timeout: 10) {
            if line == "*** stalled quit (connection lost)" { sawQuit = true }
            if line.hasPrefix("#lobby <talker> ") {
                #expect(line.hasPrefix("#lobby <talker> \(next) "), "in order, nothing lost")
                next += 1
            }
        }
        #expect(next == messages, "the plaintext listener received every message")
        #expect(secure.waitFor("#lobby <talker> \(messages - 1) ", timeout: 30), "the reading TLS client received every message")
        #expect(daemon.waitForLog("slow consumer: output backlog"), "the stalled TLS reader was cut")
        #expect(sawQuit || listener.waitFor { $0 == "*** stalled quit (connection lost)" } != nil, "the others heard it leave")
        let secureLines = secure.output.split(separator: "\n").filter { $0.hasPrefix("#lobby <talker> ") }
        #expect(secureLines.count == messages, "no message lost or doubled over TLS")
    }

    @Test func aHalfFinishedHandshakeIsClosedByTheTimeoutAndTheBoundMakesOthersWait() throws {
        let certificates = try TLSCertificates()
        let (daemon, tlsPort) = try tlsDaemon(certificates, ["--tls-handshake-timeout", "1", "--tls-max-handshakes", "1"])
        // A TLS record header promising a 200-byte ClientHello, and only part of it.
        let stalled = try TestClient(port: tlsPort)
        stalled.sendRaw([0x16, 0x03, 0x01, 0x00, 0xC8, 0x01, 0x00, 0x00, 0xC4, 0x03, 0x03] + [UInt8](repeating: 0x41, count: 20))
        #expect(daemon.waitForLog("1 TLS handshakes in flight, the most allowed"), "the bound was reached")
        // While the half-finished handshake holds the only slot, a real client waits in the
        // accept queue; it is served once the timeout frees the slot.
        let waiting = try sClient(tlsPort, certificates)
        #expect(stalled.waitForClose(timeout: 10), "the half-finished handshake was closed")
        #expect(daemon.waitForLog("TLS handshake not finished within 1s (1 failed handshakes since start)"))
        #expect(waiting.waitFor("*** welcome"), "the waiting client got its turn")
        let log = daemon.log
        if let timedOut = log.range(of: "TLS handshake not finished"), let served = log.range(of: "connected over TLS") {
            #expect(timedOut.lowerBound < served.lowerBound, "served only after the slot was freed")
        }
    }

    @Test func aClientHelloOnThePlaintextPortAndPlaintextOnTheTLSPortAreClosedCleanly() throws {
        let certificates = try TLSCertificates()
        let (daemon, tlsPort) = try tlsDaemon(certificates)
        let watcher = try daemon.client(named: "watcher")
        // A real TLS client pointed at the plaintext port.
        let confused = try Spawned(TLSCertificates.openssl, ["s_client", "-connect", "127.0.0.1:\(daemon.port)", "-brief", "-nocommands"])
        #expect(confused.waitForExit() != 0, "its handshake failed")
        #expect(daemon.waitForLog("disconnected: a TLS ClientHello on the plaintext port"))
        #expect(daemon.log.components(separatedBy: "TLS ClientHello on the plaintext port").count == 2, "one log line")
        // Plaintext pointed at the TLS port.
        let lost = try TestClient(port: tlsPort)
        lost.send("/nick lost")
        #expect(lost.waitForClose(), "the TLS port closed the plaintext client")
        #expect(daemon.waitForLog("TLS handshake failed: wrong version number"))
        // Neither reached the chat: no junk line was relayed.
        watcher.send("/ping done")
        let seen = watcher.drain(seconds: 1)
        #expect(seen.contains("OK pong done"))
        #expect(!seen.contains { $0.hasPrefix("#lobby <") }, "nothing was relayed: \(seen)")
        #expect(!daemon.log.contains("notice chatd: [ChatIO] client"), "handshake failures are logged at info, not notice")
    }

    @Test func aTLSOnlyServerAndItsStartErrors() throws {
        let certificates = try TLSCertificates()
        let only = try Spawned(Daemon.binary, ["--no-plain", "--tls-port", "0", "--tls-cert", certificates.certificate,
                                               "--tls-key", certificates.key, "--no-history"])
        #expect(only.waitFor("chatd listening for TLS on", inErrors: true))
        #expect(!only.errorOutput.contains("chatd listening on"), "no plaintext listener")
        kill(only.pid, SIGTERM)
        #expect(only.waitForExit() == 0)

        let refusals: [([String], String)] = [
            (["--no-plain"], "--no-plain needs --tls-port"),
            (["--tls-port", "0", "--tls-cert", certificates.certificate], "--tls-port needs --tls-key"),
            (["--tls-port", "0", "--tls-cert", certificates.certificate, "--tls-key", certificates.renewedKey], "mismatch"),
            (["--tls-port", "0", "--tls-cert", certificates.directory + "/missing.pem", "--tls-key", certificates.key], "missing.pem"),
        ]
        for (arguments, reason) in refusals {
            let refused = try Spawned(Daemon.binary, ["--port", "0", "--no-history"] + arguments)
            #expect(refused.waitForExit() == 1, "\(arguments)")
            let lines = refused.errorOutput.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("chatd: ") && lines[0].contains(reason), "\(arguments): \(refused.errorOutput)")
        }
    }
}
