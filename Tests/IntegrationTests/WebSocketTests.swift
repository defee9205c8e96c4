import Foundation
import Testing
import ChatTestSupport

/// The web door over real sockets: chatd's HTTP answers and RFC 6455 as a server must speak it.
@Suite struct WebSocketTests {
    @Test func handshakeThenChatWithAnNcStyleClient() throws {
        let daemon = try Daemon()
        let socket = try WebSocketTestClient(port: daemon.port)
        #expect(socket.answerHead.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        #expect(try socket.waitFor { $0.hasPrefix("*** welcome to chatd") } != nil)
        socket.send("/nick webby")
        #expect(try socket.waitFor { $0 == "OK nick webby" } != nil)
        let plain = try daemon.client(named: "plain")
        socket.send("hello from the browser")
        #expect(plain.waitFor { $0 == "#lobby <webby> hello from the browser" } != nil)
        plain.send("hello back")
        #expect(try socket.waitFor { $0 == "#lobby <plain> hello back" } != nil)
    }

    @Test func fragmentsAndPingsInBetween() throws {
        let daemon = try Daemon()
        let socket = try WebSocketTestClient(port: daemon.port)
        _ = try socket.waitFor { $0.hasPrefix("*** welcome") }
        socket.sendRaw(WebSocketTestClient.frame(1, Array("/ping ".utf8), fin: false))
        socket.sendRaw(WebSocketTestClient.frame(9, Array("are you there".utf8)))
        socket.sendRaw(WebSocketTestClient.frame(0, Array("tok".utf8), fin: false))
        socket.sendRaw(WebSocketTestClient.frame(0, Array("en".utf8)))
        var pong: WebSocketTestClient.Frame?
        var reply: String?
        while pong == nil || reply == nil, let frame = try socket.readFrame() {
            if frame.opcode == 10 { pong = frame }
            if frame.opcode == 1, frame.text.hasPrefix("OK pong") { reply = frame.text }
        }
        #expect(pong?.text == "are you there")
        #expect(reply == "OK pong token")
    }

    @Test func protocolViolationsCloseWithTheirCodes() throws {
        let daemon = try Daemon()
        let cases: [(String, [UInt8], UInt16)] = [
            ("unmasked", WebSocketTestClient.frame(1, Array("hi".utf8), masked: false), 1002),
            ("invalid UTF-8", WebSocketTestClient.frame(1, [0x68, 0xC0, 0xAF]), 1007),
            ("oversized", WebSocketTestClient.frame(1, Array(repeating: 0x61, count: 5000)), 1009),
            ("binary", WebSocketTestClient.frame(2, [1, 2, 3]), 1003),
            ("fragmented ping", WebSocketTestClient.frame(9, [], fin: false), 1002),
        ]
        for (what, frame, code) in cases {
            let socket = try WebSocketTestClient(port: daemon.port)
            _ = try socket.waitFor { $0.hasPrefix("*** welcome") }
            socket.sendRaw(frame)
            #expect(try socket.waitForCloseFrame()?.closeCode == code, "\(what)")
            #expect(socket.waitForEOF(), "\(what): the server closes the connection")
        }
    }

    @Test func theCloseHandshakeEchoesTheCode() throws {
        let daemon = try Daemon()
        let plain = try daemon.client(named: "watcher")
        let socket = try WebSocketTestClient(port: daemon.port)
        _ = try socket.waitFor { $0.hasPrefix("*** welcome") }
        socket.send("/nick leaver")
        _ = try socket.waitFor { $0 == "OK nick leaver" }
        socket.sendRaw(WebSocketTestClient.frame(8, [0x03, 0xE8] + Array("bye".utf8)))
        #expect(try socket.waitForCloseFrame()?.closeCode == 1000)
        #expect(socket.waitForEOF())
        #expect(plain.waitFor { $0.hasPrefix("*** leaver quit") } != nil)
    }

    @Test func thePageAndHTTPErrors() throws {
        let daemon = try Daemon()
        let page = try HTTPProbe.get(port: daemon.port, "/")
        #expect(page.status == 200)
        #expect(page.head.contains("Content-Type: text/html"))
        #expect(page.body.contains("<title>chatd</title>"))
        #expect(try HTTPProbe.get(port: daemon.port, "/nothing").status == 404)
        #expect(try HTTPProbe.exchange(port: daemon.port, Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".utf8)).status == 405)
        #expect(try HTTPProbe.get(port: daemon.port, "/ws").status == 400)  // HTTP/1.0: no WebSocket
        let thousand = "GET / HTTP/1.1\r\n" + String(repeating: "X-Filler: header\r\n", count: 1000) + "\r\n"
        #expect(try HTTPProbe.exchange(port: daemon.port, Array(thousand.utf8)).status == 431)
        #expect(throws: TestError.self) { try WebSocketTestClient(port: daemon.port, origin: "https://evil.example") }
        #expect(try WebSocketTestClient(port: daemon.port, origin: "http://127.0.0.1:\(daemon.port)").answerHead.hasPrefix("HTTP/1.1 101"))
    }

    @Test func aSlowLorisRequestIsClosed() throws {
        let daemon = try Daemon()
        let client = try TestClient(port: daemon.port)
        client.sendRaw(Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8))
        // A header byte every two seconds never finishes the head: the door's clock runs from
        // the first byte, not from the last, and closes it after its bound (10 s).
        for _ in 0..<4 {  // 8 s of trickling, inside the bound; the reset clock would never fire
            usleep(2_000_000)
            client.sendRaw(Array("X".utf8))
        }
        // Due about 2 s after the last byte; a clock reset by every byte would need 10 more.
        let bytes = client.readUntilClose(timeout: 6)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 408 Request Timeout"))
    }

    @Test func noWebKeepsTheOld400() throws {
        let daemon = try Daemon(["--no-web"])
        #expect(try HTTPProbe.get(port: daemon.port, "/").status == 400)
    }

    @Test func theOriginAllowList() throws {
        let daemon = try Daemon(["--web-origin", "https://chat.example.org"])
        #expect(try WebSocketTestClient(port: daemon.port, origin: "https://chat.example.org").answerHead.hasPrefix("HTTP/1.1 101"))
        #expect(throws: TestError.self) { try WebSocketTestClient(port: daemon.port, origin: "https://other.example.org") }
    }
}
