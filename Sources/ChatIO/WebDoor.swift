import ChatCore
import EventIO

/// The web door of one connection whose first bytes were an HTTP request (`--web`): it reads the
/// request head with bounds (size, header count, `requestSeconds`), answers `GET /` with the page
/// and anything else but a WebSocket handshake with an HTTP error, then — after `101 Switching
/// Protocols` — decodes WebSocket frames. Each text message becomes one line for the ordinary
/// framing path (sanitising, line cap, flood control, hub), so a browser's lines are handled
/// exactly like nc's. Answers go out through the hub as `.raw` bytes, so they queue in order with
/// the chat lines rendered for this client.
final class WebDoor {
    /// How long an HTTP client may take to send its request head (slow-loris bound): 10 s is
    /// ample for a browser, which sends its head in one packet.
    static let requestSeconds = 10.0

    private enum Phase {
        /// Reading the request head.
        case request
        /// Upgraded: WebSocket frames.
        case webSocket
        /// Answered or closing: anything more is ignored.
        case done
    }

    private var phase = Phase.request
    private var head: [UInt8] = []
    private var decoder: WebSocketDecoder
    /// The lines of one read's messages (kept, so a busy client allocates none per read).
    private var lineBuffer: [UInt8] = []
    /// A close or failure met in the last bytes, carried out after their lines are handled.
    private var ending: (frame: [UInt8], reason: String, cause: DisconnectReason)?

    init(maxMessageBytes: Int) {
        decoder = WebSocketDecoder(maxMessageBytes: maxMessageBytes)
    }

    var isUpgraded: Bool { phase == .webSocket }

    /// Bytes from the peer. Returns the native lines (each ending in a newline) that the
    /// WebSocket messages among them carry, for framing; HTTP and control frames are answered here.
    func received(_ bytes: UnsafeRawBufferPointer, on connection: Connection, for server: ChatServer) -> [UInt8] {
        switch phase {
        case .done:
            return []
        case .request:
            head.append(contentsOf: bytes)
            return readHead(connection, for: server)
        case .webSocket:
            decoder.append(bytes)
            return decodeFrames(connection, for: server)
        }
    }

    /// After the lines of the last `received` were handled: a close or protocol failure seen in
    /// those bytes is answered with its close frame and the client leaves.
    func finish(_ connection: Connection, for server: ChatServer) {
        guard let (frame, reason, cause) = ending else { return }
        ending = nil
        server.hub.send(.raw(frame), to: connection.id)
        server.hub.dismiss(connection.id, reason: reason, cause: cause)
    }

    /// The request head is complete (route it), unfinished (wait, on the slow-loris clock), or
    /// breaks a bound (refuse).
    private func readHead(_ connection: Connection, for server: ChatServer) -> [UInt8] {
        switch HTTPRequestHead.parse(head) {
        case .needMore:
            if !server.timeouts.webRequest.contains(connection.id) { server.timeouts.webRequest.touch(connection.id, at: server.reactor.now) }
            return []
        case .refuse(let status, let why):
            refuse(status, why, connection, for: server)
            return []
        case .complete(let request, let length):
            server.timeouts.webRequest.remove(connection.id)
            let rest = head[length...]
            head = []
            return route(request, rest: Array(rest), connection, for: server)
        }
    }

    private func route(_ request: HTTPRequestHead, rest: [UInt8], _ connection: Connection, for server: ChatServer) -> [UInt8] {
        let hub = server.hub, id = connection.id
        switch WebRoute.decide(request, allowedOrigins: server.config.webOrigins) {
        case .page(let headOnly):
            phase = .done
            hub.send(.raw(headOnly ? WebPage.headResponse : WebPage.response), to: id)
            hub.dismiss(id, reason: "web page served", cause: .http)
            server.logger.info("web: \(connection.address) \(request.method) \(request.target) 200")
            return []
        case .refuse(let status, let why):
            refuse(status, why, connection, for: server)
            return []
        case .upgrade(let key):
            let accept: String
            do {
                accept = try Digest.webSocketAccept(key: key, guid: HTTPResponse.webSocketGUID)
            } catch {
                server.logger.error("web: Sec-WebSocket-Accept for \(connection.address): \(error)")
                refuse(.badRequest, "the server could not hash the key", connection, for: server)
                return []
            }
            phase = .webSocket
            hub.send(.raw(HTTPResponse.switchingProtocols(accept: accept)), to: id)
            hub.openWebSocket(id)
            server.logger.info("web: \(connection.address) opened a WebSocket")
            if rest.isEmpty { return [] }
            decoder.append(rest)
            return decodeFrames(connection, for: server)
        }
    }

    private func refuse(_ status: HTTPStatus, _ why: String, _ connection: Connection, for server: ChatServer) {
        phase = .done
        head = []
        server.timeouts.webRequest.remove(connection.id)
        server.hub.send(.raw(HTTPResponse.refusal(status, why)), to: connection.id)
        server.hub.dismiss(connection.id, reason: "HTTP \(status.rawValue)", cause: .http)
        server.logger.info("web: \(connection.address) refused with \(status.rawValue): \(why)")
    }

    /// Every whole frame received: messages become lines, pings are answered, a close or a
    /// failure ends the decoding (carried out by `finish`).
    private func decodeFrames(_ connection: Connection, for server: ChatServer) -> [UInt8] {
        // One buffer kept across reads: unique again once the caller has framed the last batch,
        // so emptying it keeps its capacity without a copy.
        var lines = lineBuffer
        lineBuffer = []
        lines.removeAll(keepingCapacity: true)
        defer { lineBuffer = lines }
        while let event = decoder.decode(appendingLinesTo: &lines) {
            switch event {
            case .text(let message):  // not produced by decode(appendingLinesTo:); kept for completeness
                lines.append(contentsOf: message)
                lines.append(0x0A)
            case .ping(let payload):
                server.hub.send(.raw(WebSocketFrame.pong(payload)), to: connection.id)
            case .pong:
                break
            case .close(let code):
                phase = .done
                ending = (WebSocketFrame.close(rawCode: code ?? WebSocketCloseCode.normal.rawValue), "left the page", .quit)
            case .fail(let code, let why):
                phase = .done
                ending = (WebSocketFrame.close(code, reason: why), "WebSocket error: \(why)", .junk)
                server.logger.info("web: \(connection.address) WebSocket closed with \(code.rawValue): \(why)")
            }
        }
        return lines
    }

    /// The request head took longer than `requestSeconds`: 408 and the close.
    func requestTimedOut(_ connection: Connection, for server: ChatServer) {
        guard phase == .request else { return }
        refuse(.requestTimeout, "the request head took more than \(Int(Self.requestSeconds))s", connection, for: server)
    }
}
