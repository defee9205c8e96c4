import Testing
@testable import ChatCore

private func parse(_ text: String, limits: HTTPHeadLimits = HTTPHeadLimits()) -> HTTPHeadParse {
    HTTPRequestHead.parse(Array(text.utf8), limits: limits)
}

private func head(_ text: String) -> HTTPRequestHead? {
    if case .complete(let head, _) = parse(text) { return head }
    return nil
}

private func status(_ parse: HTTPHeadParse) -> HTTPStatus? {
    if case .refuse(let status, _) = parse { return status }
    return nil
}

/// What Chromium sends to open a WebSocket (trimmed).
private let upgrade = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:7878\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nOrigin: http://127.0.0.1:7878\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"

@Suite struct HTTPRequestHeadTests {
    @Test func aBrowserRequestParses() {
        let text = "GET / HTTP/1.1\r\nHost: chat\r\nAccept:  text/html \r\n\r\n"
        guard case .complete(let head, let length) = parse(text) else {
            Issue.record("not parsed")
            return
        }
        #expect(head.method == "GET" && head.target == "/" && head.version == "HTTP/1.1")
        #expect(head.header("accept") == "text/html")
        #expect(length == text.utf8.count)
    }

    @Test func bareLineFeedsAreAccepted() {
        #expect(head("GET / HTTP/1.0\nHost: x\n\n")?.header("host") == "x")
    }

    @Test func anUnfinishedHeadNeedsMore() {
        #expect(parse("GET / HTTP/1.1\r\nHost: x\r\n") == .needMore)
        #expect(parse("GET / HT") == .needMore)
    }

    @Test func boundsAreEnforcedBeforeTheHeadEnds() {
        let many = "GET / HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: 1000)
        #expect(status(parse(many)) == .headersTooLarge)
        let long = "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 9000)
        #expect(status(parse(long)) == .headersTooLarge)
        #expect(status(parse("GET /" + String(repeating: "a", count: 3000))) == .uriTooLong)
    }

    @Test func malformedHeadsAreBadRequests() {
        #expect(status(parse("GET /\r\n\r\n")) == .badRequest)
        #expect(status(parse("get / HTTP/1.1\r\n\r\n")) == .badRequest)
        #expect(status(parse("GET / HTTP/1.1\r\nno colon\r\n\r\n")) == .badRequest)
        #expect(status(parse("GET / HTTP/1.1\r\nName : v\r\n\r\n")) == .badRequest)
        #expect(status(parse("GET / HTTP/1.1\r\n folded: v\r\n\r\n")) == .badRequest)
        #expect(status(parse("GET / HTTP/2.0\r\n\r\n")) == .versionNotSupported)
    }

    @Test func routes() {
        #expect(head("GET / HTTP/1.1\r\nHost: x\r\n\r\n").map { WebRoute.decide($0) } == .page(headOnly: false))
        #expect(head("HEAD /?a=b HTTP/1.1\r\n\r\n").map { WebRoute.decide($0) } == .page(headOnly: true))
        #expect(head(upgrade).map { WebRoute.decide($0) } == .upgrade(key: "dGhlIHNhbXBsZSBub25jZQ=="))
        let refusals: [(String, HTTPStatus)] = [
            ("GET /nothing HTTP/1.1\r\n\r\n", .notFound),
            ("POST / HTTP/1.1\r\n\r\n", .methodNotAllowed),
            ("DELETE /ws HTTP/1.1\r\n\r\n", .methodNotAllowed),
            ("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", .upgradeRequired),
            (upgrade.replacing("Version: 13", with: "Version: 8"), .upgradeRequired),
            (upgrade.replacing("Connection: Upgrade", with: "Connection: close"), .badRequest),
            (upgrade.replacing("dGhlIHNhbXBsZSBub25jZQ==", with: "short=="), .badRequest),
            (upgrade.replacing("http://127.0.0.1:7878", with: "https://evil.example"), .forbidden),
        ]
        for (text, expected) in refusals {
            guard let parsed = head(text), case .refuse(let got, _) = WebRoute.decide(parsed) else {
                Issue.record("not refused: \(text)")
                continue
            }
            #expect(got == expected, "\(text)")
        }
    }

    @Test func originAllowList() {
        #expect(WebRoute.originAllowed("https://chat.example.org", host: "127.0.0.1:7878", allowed: ["https://chat.example.org"]))
        #expect(WebRoute.originAllowed("https://anything", host: nil, allowed: ["*"]))
        #expect(WebRoute.originAllowed("https://CHAT:443", host: "chat:443", allowed: []))
        #expect(!WebRoute.originAllowed("null", host: "chat", allowed: []))
        #expect(WebRoute.decide(head(upgrade.replacing("Connection: Upgrade", with: "Connection: keep-alive, Upgrade"))!) == .upgrade(key: "dGhlIHNhbXBsZSBub25jZQ=="))
    }

    @Test func refusalsCloseAndSayWhy() {
        let text = String(decoding: HTTPResponse.refusal(.methodNotAllowed, "POST /: only GET"), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
        #expect(text.contains("Allow: GET, HEAD\r\n") && text.contains("Connection: close\r\n"))
        #expect(text.hasSuffix("\r\n\r\n405 Method Not Allowed: POST /: only GET\n"))
    }
}
