import ChatTestSupport
import Foundation
import Glibc
import Testing

/// Each hardening behaviour over real sockets, against the real binary.
@Suite struct HardeningTests {
    @Test func aSlowReaderIsCutWhileThreeActiveClientsReceiveEverything() throws {
        let daemon = try Daemon(["--max-line-rate", "0", "--output-hard-limit", "262144", "--output-soft-limit", "131072"])
        let slow = try daemon.client(named: "slow")  // never reads again
        let listeners = try (0..<3).map { try daemon.client(named: "l\($0)") }
        let talker = try daemon.client(named: "talker")
        let payload = String(repeating: "z", count: 1000)
        let messages = 6000  // 6 MB: more than the kernel buffers plus the hard limit
        var next = [Int](repeating: 0, count: 3)
        var sawQuit = false
        for index in 0..<messages {
            talker.send("\(index) \(payload)")
            if index % 200 == 199 {
                for (which, listener) in listeners.enumerated() {
                    while next[which] <= index - 100, let line = listener.readLine(timeout: 10) {
                        if line.hasPrefix("#lobby <talker> ") { next[which] += 1 }
                        if line == "*** slow quit (connection lost)" { sawQuit = true }
                    }
                }
            }
        }
        for (which, listener) in listeners.enumerated() {
            while next[which] < messages, let line = listener.readLine(timeout: 10) {
                if line == "*** slow quit (connection lost)" { sawQuit = true }
                if line.hasPrefix("#lobby <talker> ") {
                    #expect(line.hasPrefix("#lobby <talker> \(next[which]) "), "in order, nothing lost")
                    next[which] += 1
                }
            }
        }
        #expect(next == [messages, messages, messages], "every active client received every message")
        #expect(daemon.waitForLog("slow consumer: output backlog"), "the slow reader was cut")
        #expect(sawQuit || listeners[0].waitFor { $0.hasPrefix("*** slow quit") } != nil, "the others heard it leave")
        #expect(slow.waitForClose(), "its connection was closed")
    }

    @Test func aFlooderIsSlowedNotDroppedAndOthersGetThrough() throws {
        let daemon = try Daemon(["--max-line-rate", "50", "--line-burst", "10"])
        let flooder = try daemon.client(named: "flooder")
        let other = try daemon.client(named: "other")
        let listener = try daemon.client(named: "listener")
        for index in 0..<150 { flooder.send("flood \(index)") }
        other.send("urgent")
        var floodLinesBeforeUrgent = 0
        while let line = listener.readLine(timeout: 10), line != "#lobby <other> urgent" {
            if line.hasPrefix("#lobby <flooder>") { floodLinesBeforeUrgent += 1 }
        }
        #expect(floodLinesBeforeUrgent < 150, "the other client's line was not queued behind the flood")
        var received = floodLinesBeforeUrgent
        while received < 150, let line = listener.readLine(timeout: 20) {
            if line.hasPrefix("#lobby <flooder> flood ") {
                #expect(line == "#lobby <flooder> flood \(received)", "held lines keep their order")
                received += 1
            }
        }
        #expect(received == 150, "nothing the flooder sent was dropped")
    }

    @Test func aClientFloodingForTooLongIsDisconnected() throws {
        let daemon = try Daemon(["--max-line-rate", "5", "--line-burst", "5", "--flood-seconds", "1"])
        let flooder = try daemon.client(named: "flooder")
        let line = String(repeating: "f", count: 100)
        for _ in 0..<400 { flooder.send(line) }
        #expect(flooder.waitFor(timeout: 20) { $0.hasPrefix("ERROR FLOOD") } != nil)
        #expect(flooder.waitForClose())
    }

    @Test func theClientOverMaxClientsGetsServerFull() throws {
        let daemon = try Daemon(["--max-clients", "19"])
        let admitted = try (0..<19).map { _ in try daemon.client() }
        let twentieth = try TestClient(port: daemon.port)
        #expect(twentieth.readLine() == "ERROR SERVER_FULL: the server is full (19 clients); try again later")
        #expect(twentieth.waitForClose())
        admitted[0].send("/quit")
        #expect(admitted[0].waitForClose())
        let again = try daemon.client()  // throws unless welcomed: a freed place can be taken again
        again.send("/ping again")
        #expect(again.waitFor { $0.hasPrefix("OK pong") } == "OK pong again")
    }

    @Test func thePerAddressLimitRefusesTheExtraConnection() throws {
        let daemon = try Daemon(["--max-clients-per-address", "2"])
        let first = try daemon.client()
        let second = try daemon.client()
        let third = try TestClient(port: daemon.port)
        #expect(third.readLine()?.hasPrefix("ERROR TOO_MANY_CONNECTIONS: 127.0.0.1 already has 2 connections") == true)
        _ = (first, second)
    }

    @Test func aBrowserGetsAShortHTTPErrorAndIsClosed() throws {
        let daemon = try Daemon(["--no-web"])  // with the web door on, it gets the page (WebSocketTests)
        let browser = try TestClient(port: daemon.port)
        browser.sendRaw(Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        #expect(browser.waitFor { $0.hasPrefix("HTTP/1.0 400") } != nil)
        #expect(browser.waitFor { $0.hasPrefix("ERROR NOT_CHAT") } != nil)
        #expect(browser.waitForClose())
    }

    @Test func anUnfinishedLineHeldTooLongIsCut() throws {
        let daemon = try Daemon(["--partial-line-timeout", "1"])
        let loris = try daemon.client()
        loris.sendRaw(Array("never finished".utf8))
        #expect(loris.waitFor(timeout: 15) { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR LINE_TIMEOUT") == true)
        #expect(loris.waitForClose())
    }

    @Test func anIdleClientIsCutWhenAskedTo() throws {
        let daemon = try Daemon(["--idle-timeout", "1"])
        let sleeper = try daemon.client()
        #expect(sleeper.waitFor(timeout: 15) { $0.hasPrefix("ERROR") }?.hasPrefix("ERROR IDLE_TIMEOUT") == true)
        #expect(sleeper.waitForClose())
    }

    @Test func runningOutOfDescriptorsNeitherCrashesNorSpins() throws {
        // 40 descriptors but room for 1000 clients: accept() hits EMFILE and the reserve
        // descriptor sheds the excess instead of the listener firing in a loop.
        let shell = try Spawned("/bin/sh", ["-c", "ulimit -n 40 && exec \"$0\" --port 0 --max-clients 1000 --log-level notice", Daemon.binary])
        let deadline = now() + 20
        var port: UInt16?
        while port == nil && now() < deadline {
            if let range = shell.errorOutput.range(of: #"listening on 127\.0\.0\.1:\d+"#, options: .regularExpression) {
                port = UInt16(shell.errorOutput[range].split(separator: ":").last!)
            }
            usleep(10_000)
        }
        let daemonPort = try #require(port)
        var clients: [TestClient] = []
        for _ in 0..<60 { clients.append(try TestClient(port: daemonPort)) }
        #expect(shell.waitFor("Too many open files", inErrors: true))
        let shed = clients.filter { $0.readLine(timeout: 2)?.hasPrefix("ERROR SERVER_FULL: the server has no free descriptors") == true }
        #expect(!shed.isEmpty, "clients over the descriptor limit are told and closed")
        let cpuBefore = try cpuSeconds(shell.pid)
        usleep(2_000_000)
        let cpuAfter = try cpuSeconds(shell.pid)
        #expect(cpuAfter - cpuBefore < 1.0, "no busy loop: \(cpuAfter - cpuBefore) CPU-seconds in 2 s")
        clients.removeAll()
    }
}

/// User + system CPU seconds of a process, from /proc.
private func cpuSeconds(_ pid: Int32) throws -> Double {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
    return (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

@Suite struct ReloadTests {
    @Test func sighupReloadsLimitsAndLogLevelWithoutDroppingAnyone() throws {
        let path = "/tmp/chatd-reload-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).conf"
        defer { unlink(path) }
        try "max-clients = 1\nlog-level = notice\n".write(toFile: path, atomically: true, encoding: .utf8)
        let daemon = try Daemon(["--config", path])
        let first = try daemon.client(named: "first")
        let refused = try TestClient(port: daemon.port)
        #expect(refused.readLine()?.hasPrefix("ERROR SERVER_FULL") == true, "the file's max-clients applies at start")
        #expect(!daemon.log.contains("first) disconnected") && !daemon.log.contains(" connected; "), "notice level: no per-connection lines")
        try "max-clients = 5\nlog-level = info\n".write(toFile: path, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.waitForLog("SIGHUP: settings reloaded; log level info, up to 5 clients"))
        let second = try daemon.client(named: "second")
        #expect(daemon.waitForLog(" connected; 2 connected"), "info level now logs connects")
        first.send("still here")
        #expect(second.waitFor { $0.hasPrefix("#lobby <first>") } == "#lobby <first> still here", "nobody was dropped")
        try "max-clients = lots\n".write(toFile: path, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.waitForLog("keeping the current settings"))
    }
}
