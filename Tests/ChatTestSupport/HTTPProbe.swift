import Glibc

/// A raw HTTP/1.x exchange for tests: sends exactly the bytes given and reads the answer until
/// the server closes, with a deadline. Used against chatd's metrics endpoint (which closes after
/// every answer) and Prometheus's API (asked with HTTP/1.0, so it closes too and never chunks).
public enum HTTPProbe {
    public struct Answer {
        public let status: Int
        public let head: String
        public let body: String
    }

    /// `GET path` as a plain HTTP/1.0 request.
    public static func get(port: UInt16, _ path: String, host: String = "127.0.0.1", timeout: Double = 10) throws -> Answer {
        try exchange(port: port, Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n".utf8), host: host, timeout: timeout)
    }

    public static func exchange(port: UInt16, _ request: [UInt8], host: String = "127.0.0.1", timeout: Double = 10) throws -> Answer {
        let client = try TestClient(port: port, host: host)
        defer { client.close() }
        client.sendRaw(request)
        let bytes = client.readUntilClose(timeout: timeout)
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TestError("no HTTP answer: \(text.prefix(200))") }
        let head = String(text[..<split.lowerBound])
        let statusText = head.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        guard let status = Int(statusText) else { throw TestError("no status in \(head)") }
        return Answer(status: status, head: head, body: String(text[split.upperBound...]))
    }
}

extension TestClient {
    /// Every byte until the peer closes (or the deadline passes).
    public func readUntilClose(timeout: Double = 10) -> [UInt8] {
        var bytes: [UInt8] = []
        let deadline = now() + timeout
        while case let remaining = deadline - now(), remaining > 0 {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, Int32(max(1, remaining * 1000))) <= 0 { break }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
