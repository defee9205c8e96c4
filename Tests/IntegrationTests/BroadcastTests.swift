import ChatTestSupport
import Foundation
import Testing

/// The foundation, end to end: the built chatd on a free port, real sockets, real nc/telnet.
@Suite struct BroadcastTests {
    @Test func twoClientsTalkBothWays() throws {
        let daemon = try Daemon()
        let a = try daemon.client(named: "a")
        let b = try daemon.client(named: "b")
        a.send("hello b")
        #expect(b.waitFor { $0 == "#lobby <a> hello b" } != nil)
        b.send("hello a")
        #expect(a.waitFor { $0 == "#lobby <b> hello a" } != nil)
    }

    @Test func unnamedClientsAreKnownByTheirAddress() throws {
        let daemon = try Daemon()
        let a = try daemon.client()
        let b = try daemon.client()
        a.send("anonymous hello")
        let line = try #require(b.waitFor { $0.hasSuffix("> anonymous hello") })
        #expect(line.range(of: #"^#lobby <127\.0\.0\.1:\d+> anonymous hello$"#, options: .regularExpression) != nil)
    }

    @Test func everyOtherClientReceivesAndTheSenderDoesNot() throws {
        let daemon = try Daemon()
        let clients = try (0..<5).map { try daemon.client(named: "c\($0)") }
        clients[0].send("to all")
        for client in clients.dropFirst() {
            #expect(client.waitFor { $0 == "#lobby <c0> to all" } != nil)
        }
        clients[0].send("/ping sync")
        #expect(clients[0].waitFor { $0.hasPrefix("OK pong") } == "OK pong sync", "nothing of its own came back first")
    }

    @Test func anAbruptlyResetClientIsRemovedAndOthersKeepTalking() throws {
        let daemon = try Daemon()
        let a = try daemon.client(named: "a")
        let b = try daemon.client(named: "b")
        let doomed = try daemon.client(named: "doomed")
        doomed.reset()
        #expect(a.waitFor { $0 == "*** doomed quit (connection lost)" } != nil)
        #expect(daemon.waitForLog("disconnected: connection reset; 2 remaining"))
        a.send("still here")
        #expect(b.waitFor { $0 == "#lobby <a> still here" } != nil)
    }

    @Test func fiftyClientsEachSendTwentyLinesAndEveryoneGetsAllInOrder() throws {
        let daemon = try Daemon()
        let clients = try (0..<50).map { try daemon.client(named: "u\($0)") }
        for round in 0..<20 {
            for (index, client) in clients.enumerated() { client.send("line \(round) from \(index)") }
        }
        for (index, client) in clients.enumerated() {
            var next = [Int](repeating: 0, count: 50)
            var received = 0
            while received < 49 * 20, let line = client.readLine(timeout: 20) {
                guard line.hasPrefix("#lobby <u") else { continue }
                let words = line.split(separator: " ")
                let sender = Int(words.last!)!
                let round = Int(words[3])!
                #expect(sender != index, "no echo to the sender")
                #expect(round == next[sender], "client \(index): lines from u\(sender) in order")
                next[sender] = round + 1
                received += 1
            }
            #expect(received == 49 * 20, "client \(index) got every line")
        }
    }

    @Test func aMegabyteWithoutNewlineIsCappedAndTheSenderToldOnce() throws {
        let daemon = try Daemon()
        let sender = try daemon.client(named: "big")
        let other = try daemon.client(named: "other")
        let before = try #require(daemon.residentBytes)
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024)
        for _ in 0..<16 { sender.sendRaw(chunk) }
        #expect(sender.waitFor { $0.hasPrefix("ERROR ") } == "ERROR LINE_TOO_LONG: lines are limited to 4096 bytes; that line was dropped")
        let after = try #require(daemon.residentBytes)
        #expect(after - before < 8 << 20, "memory stays bounded: grew \(after - before) bytes for a 1 MB line")
        sender.sendRaw(Array("\nback to normal\n".utf8))
        #expect(other.waitFor { $0.hasPrefix("#lobby <big>") } == "#lobby <big> back to normal")
        sender.send("/ping once")
        #expect(sender.waitFor { $0.hasPrefix("OK") || $0.hasPrefix("ERROR") } == "OK pong once", "exactly one error for the long line")
    }

    @Test func randomBinaryIsNeverRelayedRawAndItsSenderIsCut() throws {
        let daemon = try Daemon()
        let sender = try daemon.client(named: "noise")
        let receiver = try daemon.client(named: "ears")
        var generator = SystemRandomNumberGenerator()
        let junk = (0..<65536).map { _ in UInt8.random(in: 0...255, using: &generator) }
        sender.sendRaw(junk + [UInt8](repeating: 0x0A, count: 80))
        #expect(sender.waitFor { $0.hasPrefix("ERROR JUNK") } != nil, "a client sending only junk is disconnected with a reason")
        #expect(sender.waitForClose())
        #expect(receiver.waitFor { $0.hasPrefix("*** noise quit") } == "*** noise quit (sent junk)")
        receiver.send("/ping done")
        let bytes = receiver.drainBytes(seconds: 1)
        for line in bytes.split(separator: 0x0A) {
            #expect(String(validating: line, as: UTF8.self) != nil, "every relayed line is UTF-8")
            #expect(!line.contains { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F }, "no C0 control or DEL")
            let text = String(decoding: line, as: UTF8.self)
            #expect(!text.unicodeScalars.contains { (0x80...0x9F).contains($0.value) }, "no C1 control")
        }
    }

    @Test func telnetTimingMarkIsAnsweredSoTelnetKeepsShowingOutput() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        client.sendRaw([0xFF, 0xF4, 0xFF, 0xFD, 0x06])  // what telnet sends for Ctrl-C
        let answer = client.drainBytes(seconds: 1)
        #expect(answer == [0xFF, 0xFC, 0x06], "IAC WONT TIMING-MARK")
    }

    @Test func realNetcatChats() throws {
        let daemon = try Daemon()
        let tester = try daemon.client(named: "tester")
        let nc = try Spawned("/usr/bin/nc", ["-N", "127.0.0.1", "\(daemon.port)"])
        nc.write("/nick ncuser\nhello from nc\n")
        #expect(tester.waitFor { $0.hasPrefix("#lobby <ncuser>") } == "#lobby <ncuser> hello from nc")
        tester.send("hi nc")
        #expect(nc.waitFor("#lobby <tester> hi nc"))
        nc.closeInput()
        #expect(nc.waitForExit() == 0)
        #expect(tester.waitFor { $0.hasPrefix("*** ncuser quit") } != nil)
    }

    @Test func realTelnetChats() throws {
        let daemon = try Daemon()
        let tester = try daemon.client(named: "tester")
        let telnet = try Spawned("/usr/bin/telnet", ["127.0.0.1", "\(daemon.port)"])
        #expect(telnet.waitFor("*** welcome to chatd"))
        telnet.write("/nick tel\nfrom telnet\n")
        #expect(tester.waitFor { $0.hasPrefix("#lobby <tel>") } == "#lobby <tel> from telnet")
        tester.send("hi telnet")
        #expect(telnet.waitFor("#lobby <tester> hi telnet"))
        telnet.write("/quit bye\n")
        #expect(telnet.waitFor("OK quit goodbye"))
        #expect(tester.waitFor { $0.hasPrefix("*** tel quit") } == "*** tel quit (bye)")
        telnet.closeInput()
        _ = telnet.waitForExit()
    }

    @Test func aPortInUseIsAOneLineErrorAndExitCodeOne() throws {
        let first = try Daemon()
        let second = try Spawned(Daemon.binary, ["--port", "\(first.port)"])
        #expect(second.waitForExit() == 1)
        let lines = second.errorOutput.split(separator: "\n").filter { !$0.contains(" notice ") }
        #expect(lines == ["chatd: bind(127.0.0.1:\(first.port)): Address already in use (errno 98)"])
    }

    @Test func ipv6Loopback() throws {
        let daemon = try Daemon(["--host", "::1"])
        let nc = try Spawned("/usr/bin/nc", ["-N", "::1", "\(daemon.port)"])
        #expect(nc.waitFor("*** welcome to chatd, [::1]:"))
        nc.closeInput()
        _ = nc.waitForExit()
    }
}
