/// An HTTP/1.x request head (request line and header fields), parsed with bounds so a browser
/// door on the chat port can never be made to hold more than `HTTPHeadLimits.maxHeadBytes`.
/// chatd reads no request bodies: every request it serves is a GET.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    public var target: String
    /// `HTTP/1.1`, `HTTP/1.0`.
    public var version: String
    /// Header fields in order, names lowercased, values with surrounding blanks trimmed.
    public var headers: [(name: String, value: String)]

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.version == rhs.version
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    /// The first value of header `name` (lowercase).
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// Whether a comma-separated header (`Connection: keep-alive, Upgrade`) lists `token`,
    /// case-insensitively, in any of its occurrences.
    public func headerLists(_ name: String, _ token: String) -> Bool {
        headers.contains { header in
            header.name == name && header.value.split(separator: ",").contains {
                $0.trimmingBlanks().lowercased() == token
            }
        }
    }
}

/// The bounds on one request head. A client that exceeds one gets the status named and a close.
public struct HTTPHeadLimits: Sendable, Equatable {
    /// Request line plus headers plus the blank line (431 beyond; browsers send ~1 KiB).
    public var maxHeadBytes = 8192
    /// Header fields (431 beyond; browsers send about 15).
    public var maxHeaders = 64
    /// Request line alone (414 beyond).
    public var maxRequestLineBytes = 2048

    public init() {}
}

/// The result of looking at the bytes received so far.
public enum HTTPHeadParse: Sendable, Equatable {
    /// No blank line yet and no bound passed.
    case needMore
    /// The whole head; `length` bytes of the input belong to it.
    case complete(HTTPRequestHead, length: Int)
    /// Refuse with this status (400, 414, 431, 505) and close.
    case refuse(HTTPStatus, String)
}

/// The statuses chatd's HTTP door answers with.
public enum HTTPStatus: Int, Sendable {
    case ok = 200
    case switchingProtocols = 101
    case badRequest = 400
    case forbidden = 403
    case notFound = 404
    case methodNotAllowed = 405
    case requestTimeout = 408
    case uriTooLong = 414
    case upgradeRequired = 426
    case headersTooLarge = 431
    case versionNotSupported = 505

    public var reason: String {
        switch self {
        case .ok: "OK"
        case .switchingProtocols: "Switching Protocols"
        case .badRequest: "Bad Request"
        case .forbidden: "Forbidden"
        case .notFound: "Not Found"
        case .methodNotAllowed: "Method Not Allowed"
        case .requestTimeout: "Request Timeout"
        case .uriTooLong: "URI Too Long"
        case .upgradeRequired: "Upgrade Required"
        case .headersTooLarge: "Request Header Fields Too Large"
        case .versionNotSupported: "HTTP Version Not Supported"
        }
    }
}

extension HTTPRequestHead {
    /// Parses `bytes` (everything received on the connection so far). Lines end in CRLF or a
    /// bare LF (RFC 9112 §2.2 lets a recipient accept LF); obsolete line folding is refused.
    /// Re-parsing from the start on each read is fine: the input is at most 8 KiB.
    public static func parse(_ bytes: some Collection<UInt8>, limits: HTTPHeadLimits = HTTPHeadLimits()) -> HTTPHeadParse {
        let bytes = Array(bytes.prefix(limits.maxHeadBytes + 1))
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var end: Int?
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                var line = bytes[start..<index]
                if line.last == 0x0D { line = line.dropLast() }
                if line.isEmpty {
                    if lines.isEmpty {  // RFC 9112 §2.2: ignore blank lines before the request line.
                        start = index + 1
                        index += 1
                        continue
                    }
                    end = index + 1
                    break
                }
                if lines.isEmpty && line.count > limits.maxRequestLineBytes { return .refuse(.uriTooLong, "request line too long") }
                lines.append(line)
                if lines.count - 1 > limits.maxHeaders { return .refuse(.headersTooLarge, "more than \(limits.maxHeaders) header fields") }
                start = index + 1
            }
            index += 1
        }
        if lines.isEmpty && bytes.count - start > limits.maxRequestLineBytes { return .refuse(.uriTooLong, "request line too long") }
        guard let end, end <= limits.maxHeadBytes else {
            if bytes.count > limits.maxHeadBytes { return .refuse(.headersTooLarge, "request head longer than \(limits.maxHeadBytes) bytes") }
            return .needMore
        }
        guard let requestLine = lines.first else { return .refuse(.badRequest, "no request line") }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
              parts[0].allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }),
              parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return .refuse(.badRequest, "malformed request line") }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version.hasPrefix("HTTP/1.") else {
            return version.hasPrefix("HTTP/") ? .refuse(.versionNotSupported, "not HTTP/1.x") : .refuse(.badRequest, "malformed request line")
        }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(lines.count - 1)
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex else { return .refuse(.badRequest, "header line without a name") }
            let name = line[..<colon]
            // RFC 9112 §5.1: no blank between name and colon; a leading blank is obsolete folding.
            guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x3A }) else { return .refuse(.badRequest, "malformed header name") }
            let value = line[(colon + 1)...]
            guard !value.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else { return .refuse(.badRequest, "control byte in a header value") }
            headers.append((String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self).trimmingBlanks()))
        }
        return .complete(
            HTTPRequestHead(method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self), version: version, headers: headers),
            length: end
        )
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    func trimmingBlanks() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) ?? first
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
