import ChatTestSupport
import Foundation
import Testing

/// Names, rooms, private messages, notices, the seed protocols and client mode, end to end.
@Suite struct ChatFeatureTests {
    @Test func privateMessagesAreSeenOnlyByTheirTarget() throws {
        let daemon = try Daemon()
        let ann = try daemon.client(named: "ann")
        let bob = try daemon.client(named: "bob")
        let eve = try daemon.client(named: "eve")
        ann.send("/msg bob secret for bob")
        #expect(ann.waitFor { $0.hasPrefix("OK") } == "OK msg bob")
        #expect(bob.waitFor { $0.hasPrefix("PM") } == "PM <ann> secret for bob")
        bob.send("/msg ann secret for ann")
        #expect(ann.waitFor { $0.hasPrefix("PM") } == "PM <bob> secret for ann")
        eve.send("/ping fence")
        let seen = try #require(eve.waitFor { $0 == "OK pong fence" }.map { _ in eve.drain(seconds: 0.5) })
        #expect(!seen.contains { $0.contains("secret") })
        ann.send("/msg nobody hi")
        #expect(ann.waitFor { $0.hasPrefix("ERROR") } == #"ERROR NO_SUCH_NICK: "nobody" is not online"#)
    }

    @Test func roomsAreIsolated() throws {
        let daemon = try Daemon()
        let a = try daemon.client(named: "a")
        let b = try daemon.client(named: "b")
        a.send("/join #a")
        #expect(a.waitFor { $0.hasPrefix("OK join") } == "OK join #a 1 member")
        b.send("/join #b")
        b.send("/part #lobby")
        #expect(b.waitFor { $0.hasPrefix("OK part") } == "OK part #lobby; current room: #b")
        a.send("only for #a")
        a.send("/say #lobby only for the lobby")
        b.send("/ping fence")
        #expect(b.waitFor { $0.hasPrefix("OK pong") } != nil)
        #expect(!b.drain(seconds: 0.5).contains { $0.contains("only for") })
    }

    @Test func nameCollisionsAreRefused() throws {
        let daemon = try Daemon()
        let first = try daemon.client(named: "Zed")
        let second = try daemon.client()
        second.send("/nick zed")
        #expect(second.waitFor { $0.hasPrefix("ERROR") } == #"ERROR NICK_IN_USE: the name "zed" is taken"#)
        first.send("/quit")
        #expect(first.waitForClose())
        second.send("/nick zed")
        #expect(second.waitFor { $0.hasPrefix("OK") || $0.hasPrefix("ERROR") } == "OK nick zed", "a name is free once its owner leaves")
    }

    @Test func renameAndQuitNotices() throws {
        let daemon = try Daemon()
        let watcher = try daemon.client(named: "watcher")
        let mover = try daemon.client(named: "mover")
        mover.send("/nick shaker")
        #expect(watcher.waitFor { $0.hasPrefix("***") && $0.contains("shaker") } == "*** mover is now known as shaker")
        #expect(mover.waitFor { $0.hasPrefix("OK") } == "OK nick shaker")
        mover.send("/quit off to lunch")
        #expect(mover.waitFor { $0.hasPrefix("OK") } == "OK quit goodbye")
        #expect(mover.waitForClose(), "the server closes after the goodbye")
        #expect(watcher.waitFor { $0.contains("quit") } == "*** shaker quit (off to lunch)")
        let dropper = try daemon.client(named: "dropper")
        dropper.close()
        #expect(watcher.waitFor { $0.contains("dropper quit") } == "*** dropper quit (connection lost)")
    }

    @Test func seedWireProtocolEndToEnd() throws {
        let daemon = try Daemon()
        let alice = try daemon.client()
        let bob = try daemon.client()
        alice.send("JOIN:alice")
        #expect(alice.waitFor { $0.hasPrefix("SERVER:") } == "SERVER:nick alice")
        bob.send("JOIN:bob")
        #expect(alice.waitFor { $0.hasPrefix("JOIN:") } == "JOIN:bob")
        alice.send("SAY::hello bob")
        #expect(bob.waitFor { $0.hasPrefix("SAY:") } == "SAY:alice:hello bob")
        bob.send("JOIN:alice")
        #expect(bob.waitFor { $0.hasPrefix("ERROR:") } == #"ERROR:NICK_IN_USE: the name "alice" is taken"#)
        bob.send("LEAVE:done")
        #expect(alice.waitFor { $0.hasPrefix("LEAVE:") } == "LEAVE:bob")
        #expect(bob.waitForClose())
    }

    @Test func colonAliases() throws {
        let daemon = try Daemon()
        let a = try daemon.client(named: "a")
        let b = try daemon.client(named: "b")
        a.send(":cr games")
        #expect(a.waitFor { $0.hasPrefix("OK join") } == "OK join #games 1 member")
        b.send(":jr games")
        #expect(b.waitFor { $0.hasPrefix("OK join") } == "OK join #games 2 members")
        a.send(":rm games gg")
        #expect(b.waitFor { $0.hasPrefix("#games") } == "#games <a> gg")
        a.send(":pm b psst")
        #expect(b.waitFor { $0.hasPrefix("PM") } == "PM <a> psst")
        b.send(":lru games")
        #expect(b.waitFor { $0.hasPrefix("OK who") } == "OK who #games 2 members")
        b.send(":lrs")
        #expect(b.waitFor { $0.hasPrefix("OK rooms") } == "OK rooms 2 rooms")
        b.send(":users")
        #expect(b.waitFor { $0.hasPrefix("OK users") } == "OK users 2 online")
        b.send(":lr games")
        #expect(a.waitFor { $0.contains(" left ") } == "*** b left #games")
        b.send(":ping")
        #expect(b.waitFor { $0.hasPrefix("OK pong") } != nil)
        b.send(":quit")
        #expect(b.waitForClose())
    }

    @Test func clientModeTalksToTheServer() throws {
        let daemon = try Daemon()
        let listener = try daemon.client(named: "listener")
        let client = try Spawned(Daemon.binary, ["client", "127.0.0.1:\(daemon.port)"])
        #expect(client.waitFor("*** welcome to chatd"))
        client.write("/nick cli\nfrom the client\n")
        #expect(listener.waitFor { $0.hasPrefix("#lobby <cli>") } == "#lobby <cli> from the client")
        listener.send("back to you")
        #expect(client.waitFor("#lobby <listener> back to you"))
        client.write("/users\n")
        client.closeInput()
        #expect(client.waitForExit() == 0, "exits cleanly when stdin ends")
        #expect(client.output.contains("OK users 2 online"), "what it sent before EOF was answered")
    }

    @Test func clientModeExitsWhenTheServerCloses() throws {
        let daemon = try Daemon()
        let client = try Spawned(Daemon.binary, ["client", "127.0.0.1:\(daemon.port)"])
        #expect(client.waitFor("*** welcome"))
        daemon.signal(SIGTERM)
        #expect(client.waitForExit() == 0)
        #expect(client.output.contains("*** server shutting down"))
    }

    @Test func clientModeRefusedConnection() throws {
        let free = try Daemon()  // find a port, then free it
        let port = free.port
        free.signal(SIGTERM)
        _ = free.waitForExit()
        let client = try Spawned(Daemon.binary, ["client", "127.0.0.1:\(port)"])
        #expect(client.waitForExit() == 1)
        #expect(client.errorOutput == "chatd client: connection refused to 127.0.0.1:\(port)\n")
    }

    @Test func sigtermSaysGoodbyeToEveryoneAndExitsZero() throws {
        let daemon = try Daemon()
        let clients = try (0..<3).map { try daemon.client(named: "c\($0)") }
        daemon.signal(SIGTERM)
        for client in clients {
            #expect(client.waitFor { $0.hasPrefix("*** server shutting down") } != nil)
            #expect(client.waitForClose())
        }
        #expect(daemon.waitForExit() == 0)
    }
}
