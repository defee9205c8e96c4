/// A browser (or a health checker) pointed at the chat port. Its first line is an HTTP request
/// line; it gets a short plain-text HTTP answer and the connection is closed, instead of its
/// headers being relayed as chat.
enum HTTPRequest {
    private static let methods = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE"]
    /// A request's first bytes: a method and its space.
    private static let openings = methods.map { Array(($0 + " ").utf8) }

    /// Whether a connection's first bytes are an HTTP request's (protocol detection).
    static func claim(_ prefix: UnsafeRawBufferPointer) -> ProtocolClaim { .opening(prefix, oneOf: openings) }

    /// `GET /path HTTP/1.1` and friends, or a bare `Host:` header line.
    static func isRequestLine(_ line: [UInt8]) -> Bool {
        if line.starts(with: "Host:".utf8) || line.starts(with: "host:".utf8) { return true }
        guard let space = line.firstIndex(of: 0x20), line.count < 8192 else { return false }
        let method = String(decoding: line[..<space], as: UTF8.self)
        guard methods.contains(method) else { return false }
        let rest = line[(space + 1)...]
        guard let second = rest.firstIndex(of: 0x20) else { return false }
        return line[(second + 1)...].starts(with: "HTTP/".utf8)
    }

    static let response = Array("""
        HTTP/1.0 400 Bad Request\r
        Content-Type: text/plain; charset=utf-8\r
        Connection: close\r
        \r
        ERROR \(ErrorCode.notChat.rawValue): this is chatd, a line-based chat server; connect with nc or telnet\n
        """.utf8)

    /// Answers an HTTP client and lets it go (counted as `http` in the metrics).
    static func answer(_ id: ClientID, in hub: Hub) {
        hub.send(.raw(response), to: id)
        hub.dismiss(id, reason: "sent an HTTP request", cause: .http)
    }
}

/// A connection whose first bytes were an HTTP request: nothing is sent on connect (a browser
/// must see nothing but HTTP). With the web door on (`--web`, the default) the I/O layer reads
/// its request itself (ChatIO's `WebDoor`: the page, or a WebSocket upgrade after which
/// `Hub.openWebSocket` makes it a chat client whose lines arrive here and are chatd's own
/// commands); with `--no-web` its request line is answered with `HTTPRequest.response`.
struct HTTPDialect: Dialect {
    var style: WireStyle { .native }

    func connected(_ id: ClientID, in hub: Hub) { _ = hub.refuseIfAddressBanned(id) }

    func receive(_ line: [UInt8], from id: ClientID, isFirstLine: Bool, admitted: Bool, in hub: Hub) {
        if hub.clients.style(of: id) == .webSocket {
            // Never a first line in the native sense: no seed protocol, no request-line check.
            return NativeDialect().receive(line, from: id, isFirstLine: false, admitted: admitted, in: hub)
        }
        HTTPRequest.answer(id, in: hub)
    }

    func claim(_ prefix: UnsafeRawBufferPointer) -> ProtocolClaim { HTTPRequest.claim(prefix) }
}

extension DialectID {
    /// An HTTP client on the chat port (HTTPDialect).
    public static let http = DialectID(index: 1)
}
