import ChatCore
import ChatTestSupport
import EventIO
import Glibc
import Logging
import Testing
@testable import ChatIO

/// A server on a private loop, stepped by hand: these tests assert state, never time.
private final class LoopHarness {
    let reactor: Reactor
    let server: ChatServer

    init(configure: (inout ServerConfig) -> Void = { _ in }) throws {
        var config = ServerConfig()
        config.port = 0
        config.maxLineRate = 0  // these tests flood on purpose
        config.protocolWait = 0  // every client in the hub at once; the detection test sets its own
        configure(&config)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        reactor = try Reactor.makePrivate()
        server = try ChatServer(config: config, reactor: reactor, logger: logger, descriptorLimit: 4096)
        server.start()
    }

    deinit { server.stopWatchers() }

    var port: UInt16 { server.boundAddress.port }

    /// Steps the loop without blocking until `condition` holds (bounded by a deadline).
    @discardableResult
    func step(until condition: () -> Bool) -> Bool {
        let deadline = now() + 20
        while !condition() && now() < deadline {
            reactor.runOnce(wait: false)
            usleep(100)
        }
        return condition()
    }
}

@Suite struct ChatServerLoopTests {
    /// The stale-clock case: the hub's clock must be the loop's when a client is accepted, not
    /// the time of the last line anyone sent. On a server where nobody has spoken, an address
    /// ban that ended a minute ago must not refuse the next connection.
    @Test func anAddressBanThatExpiredWhileTheServerWasQuietAdmitsTheNextClient() throws {
        let loop = try LoopHarness()
        let ban = ServerBan(target: "127.0.0.1", isAddress: true, until: loop.reactor.now - 60, setBy: "test")
        loop.server.hub.serverBans = [ban.target: ban]
        let client = try TestClient(port: loop.port)
        #expect(loop.step { loop.server.hub.clientCount == 1 || loop.server.hub.counters.disconnects[.banned] > 0 })
        for _ in 0..<10 { loop.reactor.runOnce(wait: false) }
        let lines = client.drain(seconds: 0.3)
        #expect(lines.first?.hasPrefix("*** welcome") == true, "\(lines)")
        #expect(!lines.contains { $0.contains("BANNED") }, "the expired ban refused the client: \(lines)")
        #expect(loop.server.hub.clientCount == 1)
        #expect(loop.server.hub.serverBans.isEmpty, "the expired ban is dropped on the way")
    }

    @Test func thousandsOfConnectionsComeAndGoWithoutLeakingObjects() throws {
        let loop = try LoopHarness()
        var released: [() -> Bool] = []
        for round in 0..<4 {
            var clients: [TestClient] = []
            for _ in 0..<500 {
                clients.append(try TestClient(port: loop.port))
                if clients.count % 100 == 0 { loop.step { loop.server.liveConnections == clients.count } }
            }
            #expect(loop.step { loop.server.liveConnections == 500 }, "round \(round)")
            for connection in loop.server.connections.compactMap({ $0 }) {
                weak let weakConnection = connection
                released.append { weakConnection == nil }
            }
            for (index, client) in clients.enumerated() {
                if index % 2 == 0 { client.close() } else { client.reset() }
            }
            clients.removeAll()
            #expect(loop.step { loop.server.liveConnections == 0 }, "round \(round)")
        }
        loop.step { loop.server.hub.clientCount == 0 }
        #expect(released.count == 2000)
        #expect(released.allSatisfy { $0() }, "every Connection object is freed once closed")
        #expect(loop.server.hub.clientCount == 0)
        #expect(loop.server.connections.allSatisfy { $0 == nil })
    }

    @Test func undecidedClientsStayOutOfTheHubUntilTheirBytesOrTheWaitDecide() throws {
        let loop = try LoopHarness { $0.protocolWait = 0.5 }
        let silent = try TestClient(port: loop.port)
        let talker = try TestClient(port: loop.port)
        #expect(loop.step { loop.server.liveConnections == 2 })
        #expect(loop.server.hub.clientCount == 0, "nobody is in the hub before its protocol is known")
        talker.send("/nick talker")
        #expect(loop.step { loop.server.hub.clientCount == 1 }, "bytes decide at once")
        #expect(loop.server.connections.compactMap { $0 }.filter { $0.awaitsFirstBytes }.count == 1)
        #expect(loop.step { loop.server.hub.clientCount == 2 }, "the silent one is decided by the wait")
        var received: [UInt8] = []
        #expect(loop.step {
            received += silent.drainBytes(seconds: 0.001)
            return received.starts(with: Array("*** welcome".utf8))
        }, "and welcomed then")
    }

    @Test func theWriteWatcherRunsOnlyWhileOutputIsPending() throws {
        let loop = try LoopHarness { $0.outputHardLimit = 64 << 20; $0.outputSoftLimit = 64 << 20 }
        let reader = try TestClient(port: loop.port)
        let talker = try TestClient(port: loop.port)
        // In the hub (and #lobby) once the protocol wait has passed in silence.
        loop.step { loop.server.hub.clientCount == 2 }
        let connection = try #require(loop.server.connections.compactMap { $0 }.first { $0.address.hasSuffix(":\(localPort(reader.fd))") })
        loop.step { !connection.isWriting && connection.pendingOutput == 0 }
        #expect(!connection.isWriting)
        let line = String(repeating: "x", count: 1000)
        // Loopback send buffers autotune to megabytes: keep talking until the server backlogs.
        var sent = 0
        while sent < 50_000 && !connection.isWriting {
            talker.send(line)
            sent += 1
            if sent % 50 == 0 { loop.reactor.runOnce(wait: false) }
        }
        #expect(loop.step { connection.pendingOutput > 0 && connection.isWriting }, "a full socket backlogs and arms the watcher")
        var received = 0
        let expected = sent * ("#lobby <127.0.0.1:\(localPort(talker.fd))> ".utf8.count + 1001)
        let deadline = now() + 60
        while now() < deadline && (received < expected || connection.isWriting) {
            received += reader.drainBytes(seconds: 0.001).count
            loop.reactor.runOnce(wait: false)
        }
        #expect(!connection.isWriting, "the watcher stops once the backlog drains")
        #expect(connection.pendingOutput == 0)
        #expect(received >= expected)
    }

    @Test func aClientOverTheHardOutputLimitIsClosedAndOthersKeepReceiving() throws {
        let loop = try LoopHarness { $0.outputHardLimit = 256 << 10; $0.outputSoftLimit = 128 << 10 }
        let stalled = try TestClient(port: loop.port)  // never reads
        defer { stalled.close() }
        let listener = try TestClient(port: loop.port)
        let talker = try TestClient(port: loop.port)
        loop.step { loop.server.liveConnections == 3 }
        let line = String(repeating: "y", count: 1000)
        var heard = 0
        for round in 0..<50_000 {
            talker.send("\(round) \(line)")
            loop.reactor.runOnce(wait: false)
            heard += listener.drain(seconds: 0.001).filter { $0.contains(line) }.count
            if loop.server.liveConnections == 2 { break }
        }
        #expect(loop.step { loop.server.liveConnections == 2 }, "the stalled reader is cut")
        #expect(loop.server.connections.compactMap { $0 }.allSatisfy { $0.pendingOutput <= 256 << 10 })
        talker.send("after")
        var gotAfter = false
        loop.step {
            gotAfter = gotAfter || listener.drain(seconds: 0.001).contains { $0.hasSuffix("> after") }
            return gotAfter
        }
        #expect(gotAfter, "the others keep receiving after the slow client is cut")
        #expect(heard > 0)
    }
}

extension ChatServerLoopTests {
    @Test func thePerAddressLimitCountsClientsThatCameBeforeItWasSwitchedOn() throws {
        let loop = try LoopHarness()  // no per-address limit at start
        let first = try TestClient(port: loop.port)
        let second = try TestClient(port: loop.port)
        loop.step { loop.server.liveConnections == 2 }
        var limited = loop.server.config
        limited.maxClientsPerAddress = 2
        loop.server.reload(limited, logLevel: .critical, descriptorLimit: 4096)
        let third = try TestClient(port: loop.port)
        var answer: String?
        loop.step {
            answer = third.readLine(timeout: 0.01) ?? answer
            return answer?.hasPrefix("ERROR") == true
        }
        #expect(answer?.hasPrefix("ERROR TOO_MANY_CONNECTIONS: 127.0.0.1 already has 2 connections") == true)
        _ = (first, second)
    }
}

private func localPort(_ fd: Int32) -> UInt16 {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}
