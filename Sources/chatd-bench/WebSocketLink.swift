import EventIO
import Glibc

/// `--websocket`: a load client that speaks to chatd's web door as a browser does — the HTTP
/// upgrade on `GET /ws`, every line sent as one masked text frame, every server frame one line —
/// so the fan-out scenario measures the server's WebSocket path against its plain one.
/// The client-side framing here is the load tool's cost, not the server's.
enum WebSocketLink {
    /// How long the upgrade may take.
    static let handshakeSeconds = 10.0

    /// Sends the upgrade request on the (non-blocking) socket and waits for `101`.
    static func upgrade(_ fd: Int32, host: String, port: UInt16) throws {
        let request = Array("GET /ws HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8)
        var sent = 0
        var answer: [UInt8] = []
        let deadline = monotonicNanoseconds() + UInt64(handshakeSeconds * 1e9)
        while monotonicNanoseconds() < deadline {
            if sent < request.count {
                let written = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written > 0 { sent += written } else if errno != EAGAIN && errno != EINTR { throw SystemError("send", "WebSocket upgrade", errno: errno) }
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 100) <= 0 { continue }
            // Byte by byte until the blank line: no frame byte after the head is taken here.
            var byte: UInt8 = 0
            let count = recv(fd, &byte, 1, 0)
            if count == 0 { throw SystemError("recv", "WebSocket upgrade: the server closed", errno: ECONNRESET) }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw SystemError("recv", "WebSocket upgrade", errno: errno)
            }
            answer.append(byte)
            if answer.count >= 4 && answer.suffix(4).elementsEqual([13, 10, 13, 10]) {
                guard answer.starts(with: Array("HTTP/1.1 101".utf8)) else {
                    throw SystemError("upgrade", String(decoding: answer.prefix(80), as: UTF8.self), errno: EPROTO)
                }
                return
            }
        }
        throw SystemError("upgrade", "no 101 within \(handshakeSeconds)s", errno: ETIMEDOUT)
    }

    /// Appends `line` (without newline) as one masked text frame. The key is zero: valid on the
    /// wire (the mask bit is set, and a server must unmask whatever the key), and the server's
    /// work is the same XOR for any key, while the load tool copies instead of XORing each byte.
    /// A browser picks a random key per frame (RFC 6455 §5.3); that is the client's cost.
    static func appendFrame(_ line: UnsafeRawBufferPointer, to out: inout ByteQueue) {
        out.append(0x81)
        if line.count < 126 {
            out.append(0x80 | UInt8(line.count))
        } else {
            out.append(0x80 | 126)
            out.append(UInt8(line.count >> 8))
            out.append(UInt8(line.count & 0xFF))
        }
        out.append(contentsOf: [0, 0, 0, 0])
        out.append(line)
    }

    /// Where the next whole server frame in `bytes[start...]` has its payload, or nil if it is
    /// not all there yet.
    @inline(__always)
    static func nextFrame(_ bytes: UnsafeRawBufferPointer, at start: Int) -> (opcode: UInt8, payload: Range<Int>)? {
        guard bytes.count - start >= 2 else { return nil }
        var length = Int(bytes[start + 1] & 0x7F), header = 2
        if length == 126 {
            guard bytes.count - start >= 4 else { return nil }
            length = Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])
            header = 4
        } else if length == 127 {
            guard bytes.count - start >= 10 else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(bytes[start + $1]) }
            header = 10
        }
        guard bytes.count - start >= header + length else { return nil }
        return (bytes[start] & 0x0F, (start + header)..<(start + header + length))
    }
}
