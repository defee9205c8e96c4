import Glibc

/// A raw WebSocket client for protocol tests: it sends exactly the frames a test builds (masked
/// or not, fragmented, oversized) and parses the server's frames, checking they are unmasked.
public final class WebSocketTestClient {
    public struct Frame: Equatable {
        public let fin: Bool
        public let opcode: UInt8
        public let payload: [UInt8]
        public var text: String { String(decoding: payload, as: UTF8.self) }
        /// A close frame's status code.
        public var closeCode: UInt16? { opcode == 8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
    }

    public let fd: Int32
    private var buffer: [UInt8] = []
    /// The server's HTTP answer head (`HTTP/1.1 101 ...`).
    public private(set) var answerHead = ""

    /// Connects and performs the opening handshake on `path`; throws unless the answer is 101.
    public init(port: UInt16, path: String = "/ws", origin: String? = nil, extraHeaders: String = "") throws {
        fd = try TestSocket.connect(host: "127.0.0.1", port: port)
        let originLine = origin.map { "Origin: \($0)\r\n" } ?? ""
        sendRaw(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(originLine)\(extraHeaders)\r\n".utf8))
        let deadline = now() + 10
        while buffer.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
            guard now() < deadline, fill(timeout: deadline - now()) else { throw TestError("no handshake answer: \(String(decoding: buffer, as: UTF8.self))") }
        }
        let end = buffer.firstRange(of: Array("\r\n\r\n".utf8))!
        answerHead = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
        buffer.removeSubrange(..<end.upperBound)
        guard answerHead.hasPrefix("HTTP/1.1 101 ") else { throw TestError("handshake refused: \(answerHead)") }
    }

    deinit { Glibc.close(fd) }

    public func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    /// A client frame (masked unless told otherwise).
    public static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            out.append(maskBit | UInt8(payload.count))
        } else if payload.count < 65536 {
            out += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF)) }
        }
        guard masked else { return out + payload }
        let mask: [UInt8] = (0..<4).map { _ in UInt8.random(in: 0...255) }
        return out + mask + payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
    }

    /// One chat line as a masked text message.
    public func send(_ line: String) { sendRaw(Self.frame(1, Array(line.utf8))) }

    /// The next server frame, or nil at the deadline or the close. Throws if the server masked it.
    public func readFrame(timeout: Double = 10) throws -> Frame? {
        let deadline = now() + timeout
        while true {
            if buffer.count >= 2 {
                if buffer[1] & 0x80 != 0 { throw TestError("the server masked a frame") }
                var length = Int(buffer[1] & 0x7F), header = 2
                if length == 126, buffer.count >= 4 {
                    length = Int(buffer[2]) << 8 | Int(buffer[3])
                    header = 4
                } else if length == 127, buffer.count >= 10 {
                    length = buffer[2..<10].reduce(0) { $0 << 8 | Int($1) }
                    header = 10
                }
                if length < 126 || header > 2, buffer.count >= header + length {
                    let frame = Frame(fin: buffer[0] & 0x80 != 0, opcode: buffer[0] & 0x0F, payload: Array(buffer[header..<(header + length)]))
                    buffer.removeSubrange(..<(header + length))
                    return frame
                }
            }
            let remaining = deadline - now()
            if remaining <= 0 || !fill(timeout: remaining) { return nil }
        }
    }

    /// The next text message's text, skipping other frames; nil at the deadline.
    public func readLine(timeout: Double = 10) throws -> String? {
        let deadline = now() + timeout
        while case let remaining = deadline - now(), remaining > 0 {
            guard let frame = try readFrame(timeout: remaining) else { return nil }
            if frame.opcode == 1 { return frame.text }
        }
        return nil
    }

    /// Reads text messages until one satisfies `predicate`.
    public func waitFor(timeout: Double = 10, _ predicate: (String) -> Bool) throws -> String? {
        let deadline = now() + timeout
        while case let remaining = deadline - now(), remaining > 0 {
            guard let line = try readLine(timeout: remaining) else { return nil }
            if predicate(line) { return line }
        }
        return nil
    }

    /// Frames until the close frame (returned), skipping text; nil if none comes.
    public func waitForCloseFrame(timeout: Double = 10) throws -> Frame? {
        let deadline = now() + timeout
        while case let remaining = deadline - now(), remaining > 0 {
            guard let frame = try readFrame(timeout: remaining) else { return nil }
            if frame.opcode == 8 { return frame }
        }
        return nil
    }

    /// True once the server closed the TCP connection.
    public func waitForEOF(timeout: Double = 10) -> Bool {
        let deadline = now() + timeout
        while case let remaining = deadline - now(), remaining > 0 {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, Int32(remaining * 1000)) <= 0 { return false }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { return true }
        }
        return false
    }

    private func fill(timeout: Double) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&poller, 1, Int32(max(1, timeout * 1000))) <= 0 { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &chunk, chunk.count, 0)
        if count <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }
}
