/// What chatd's HTTP door does with one parsed request: serve the page, upgrade to WebSocket,
/// or refuse with a status. Pure, so every branch has a unit test; the I/O layer computes the
/// `Sec-WebSocket-Accept` digest (libcrypto) and writes the bytes.
public enum WebRoute: Sendable, Equatable {
    /// `GET /`: the page (`HEAD /`: its headers only).
    case page(headOnly: Bool)
    /// `GET /ws` with a valid RFC 6455 §4.2.1 handshake; `key` is the client's
    /// `Sec-WebSocket-Key`, to be hashed into `Sec-WebSocket-Accept`.
    case upgrade(key: String)
    /// Answer `status` (with `allow` for 405), say `why` in the body and the log, and close.
    case refuse(HTTPStatus, String)

    /// Where the page lives and where it connects.
    public static let pagePath = "/"
    public static let socketPath = "/ws"

    /// Decides the route for `head`. `allowedOrigins` is the `--web-origin` list: a browser's
    /// `Origin` must be on it or name the same host as its `Host` header (the page served by this
    /// chatd); `*` allows any origin. A request without `Origin` is not from a browser page and
    /// is allowed (a script could send any Origin it likes anyway: the check protects browser
    /// users from other sites' pages, not chatd from clients).
    public static func decide(_ head: HTTPRequestHead, allowedOrigins: [String] = []) -> WebRoute {
        let path = head.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        switch path {
        case pagePath, "/index.html":
            guard head.method == "GET" || head.method == "HEAD" else { return .refuse(.methodNotAllowed, "\(head.method) \(path): only GET") }
            return .page(headOnly: head.method == "HEAD")
        case socketPath:
            guard head.method == "GET" else { return .refuse(.methodNotAllowed, "\(head.method) \(path): only GET") }
            return upgradeRoute(head, allowedOrigins: allowedOrigins)
        default:
            return .refuse(.notFound, "no such page: \(path.prefix(100))")
        }
    }

    private static func upgradeRoute(_ head: HTTPRequestHead, allowedOrigins: [String]) -> WebRoute {
        guard head.version != "HTTP/1.0" else { return .refuse(.badRequest, "WebSocket needs HTTP/1.1") }
        guard head.headerLists("upgrade", "websocket") else { return .refuse(.upgradeRequired, "GET /ws without Upgrade: websocket") }
        guard head.headerLists("connection", "upgrade") else { return .refuse(.badRequest, "Upgrade without Connection: upgrade") }
        guard head.header("sec-websocket-version") == "13" else { return .refuse(.upgradeRequired, "WebSocket version is not 13") }
        guard let key = head.header("sec-websocket-key"), isValidKey(key) else { return .refuse(.badRequest, "Sec-WebSocket-Key is not 16 base64-encoded bytes") }
        if let origin = head.header("origin"), !originAllowed(origin, host: head.header("host"), allowed: allowedOrigins) {
            return .refuse(.forbidden, "origin \(origin.prefix(200)) is not allowed (--web-origin)")
        }
        return .upgrade(key: key)
    }

    /// §4.1: the key is the base64 of 16 random bytes: 22 characters and `==`.
    static func isValidKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard bytes.count == 24, bytes[22] == 0x3D, bytes[23] == 0x3D else { return false }
        return bytes[..<22].allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2F }
    }

    /// Same host as the request's `Host` (scheme ignored: `ws://` and `wss://` pages alike), or
    /// listed exactly (`https://chat.example.org`), or `*` listed.
    static func originAllowed(_ origin: String, host: String?, allowed: [String]) -> Bool {
        if allowed.contains("*") || allowed.contains(where: { $0.lowercased() == origin.lowercased() }) { return true }
        guard let host else { return false }
        let parts = origin.split(separator: "/", omittingEmptySubsequences: false)
        // `scheme://host[:port]` splits into ["scheme:", "", "host[:port]"].
        guard parts.count == 3, parts[0].hasSuffix(":"), parts[1].isEmpty else { return false }
        return parts[2].lowercased() == host.lowercased()
    }
}

/// HTTP answers the door writes: always `Connection: close` except for the upgrade.
public enum HTTPResponse {
    /// `status` with a body, `Content-Length` and `Connection: close`.
    public static func render(_ status: HTTPStatus, contentType: String = "text/plain; charset=utf-8", extraHeaders: [String] = [], body: [UInt8], headOnly: Bool = false) -> [UInt8] {
        var text = "HTTP/1.1 \(status.rawValue) \(status.reason)\r\n"
        text += "Content-Type: \(contentType)\r\n"
        text += "Content-Length: \(body.count)\r\n"
        for header in extraHeaders { text += header + "\r\n" }
        text += "Connection: close\r\n\r\n"
        var out = Array(text.utf8)
        if !headOnly { out.append(contentsOf: body) }
        return out
    }

    /// The refusal for `route` (`.refuse` only; other routes are answered by the I/O layer).
    public static func refusal(_ status: HTTPStatus, _ why: String) -> [UInt8] {
        var extra: [String] = []
        if status == .methodNotAllowed { extra.append("Allow: GET, HEAD") }
        if status == .upgradeRequired { extra.append("Sec-WebSocket-Version: 13") }
        return render(status, extraHeaders: extra, body: Array("\(status.rawValue) \(status.reason): \(why)\n".utf8))
    }

    /// §4.2.2: the 101 answer; `accept` is base64(SHA-1(key + GUID)).
    public static func switchingProtocols(accept: String) -> [UInt8] {
        Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n".utf8)
    }

    /// The GUID §1.3 appends to the key before hashing.
    public static let webSocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
}
