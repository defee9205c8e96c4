/// Just enough HTTP/1.1 for the metrics endpoint: `GET /metrics` (and `HEAD`) get the
/// exposition, any other path 404, any other method on `/metrics` 405, a malformed request
/// 400, a request head over `maxRequestBytes` 431. Every answer closes the connection, so
/// there is no keep-alive state, no pipelining and no body to read.
public enum MetricsHTTP {
    /// Bytes of request head (request line and headers) read before giving up with 431.
    /// Prometheus sends about 300.
    public static let maxRequestBytes = 8192
    /// The one path served.
    public static let path = "/metrics"

    public enum Route: Equatable, Sendable {
        case metrics(headOnly: Bool)
        case notFound
        case methodNotAllowed
        case badRequest
        case tooLarge
    }

    /// What the bytes received so far ask for, or nil while the head is not complete yet. A
    /// malformed request line is answered as soon as its line ends, without waiting for headers.
    public static func route(_ bytes: [UInt8]) -> Route? {
        guard let lineEnd = bytes.firstIndex(of: 0x0A) else {
            return bytes.count >= maxRequestBytes ? .tooLarge : nil
        }
        var line = bytes[..<lineEnd]
        if line.last == 0x0D { line = line.dropLast() }
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte),
              parts[1].first == UInt8(ascii: "/") || parts[1].elementsEqual("*".utf8),
              parts[2].starts(with: "HTTP/1.".utf8), parts[2].count == 8 else { return .badRequest }
        guard headEnd(bytes) != nil else { return bytes.count >= maxRequestBytes ? .tooLarge : nil }
        let target = parts[1].prefix { $0 != UInt8(ascii: "?") }
        guard target.elementsEqual(path.utf8) else { return .notFound }
        switch String(decoding: parts[0], as: UTF8.self) {
        case "GET": return .metrics(headOnly: false)
        case "HEAD": return .metrics(headOnly: true)
        default: return .methodNotAllowed
        }
    }

    /// The index just past the blank line that ends the head (CR LF CR LF, or LF LF).
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    /// RFC 9110 token characters, for the method.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// The full answer to `route`, with `body` (the exposition) for `.metrics`, written by the
    /// web door's `HTTPResponse` (one way to write an HTTP answer in chatd).
    public static func response(_ route: Route, body: [UInt8]) -> [UInt8] {
        let status = httpStatus(route)
        switch route {
        case .metrics(let headOnly):
            return HTTPResponse.render(status, contentType: PrometheusText.contentType, body: body, headOnly: headOnly)
        case .notFound:
            return HTTPResponse.render(status, body: Array("chatd serves metrics at \(path) only\n".utf8))
        case .methodNotAllowed:
            return HTTPResponse.render(status, extraHeaders: ["Allow: GET, HEAD"], body: Array("\(path) takes GET or HEAD\n".utf8))
        case .badRequest:
            return HTTPResponse.render(status, body: Array("not an HTTP/1 request\n".utf8))
        case .tooLarge:
            return HTTPResponse.render(status, body: Array("the request head is over \(maxRequestBytes) bytes\n".utf8))
        }
    }

    /// The status code of an answer, for counting.
    public static func status(_ route: Route) -> Int { httpStatus(route).rawValue }

    private static func httpStatus(_ route: Route) -> HTTPStatus {
        switch route {
        case .metrics: .ok
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .badRequest: .badRequest
        case .tooLarge: .headersTooLarge
        }
    }
}
