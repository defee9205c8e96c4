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

    /// Appends `line` (without newline) as one masked text frame.
    static func appendFrame(_ line: UnsafeRawBufferPointer, mask: UInt32, to out: inout ByteQueue) {
        out.append(0x81)
        if line.count < 126 {
            out.append(0x80 | UInt8(line.count))
        } else {
            out.append(0x80 | 126)
            out.append(UInt8(line.count >> 8))
            out.append(UInt8(line.count & 0xFF))
        }
        let key: [UInt8] = [UInt8(mask >> 24), UInt8((mask >> 16) & 0xFF), UInt8((mask >> 8) & 0xFF), UInt8(mask & 0xFF)]
        out.append(contentsOf: key)
        for index in 0..<line.count { out.append(line[index] ^ key[index & 3]) }
    }

    /// Server frames in `bytes` (after `pending`, a partial frame from the last read) turned
    /// into newline-ended lines appended to `lines`; what is left of an unfinished frame stays
    /// in `pending`.
    static func unframe(_ bytes: UnsafeRawBufferPointer, pending: inout [UInt8], into lines: inout [UInt8]) {
        pending.append(contentsOf: bytes)
        var start = 0
        while pending.count - start >= 2 {
            var length = Int(pending[start + 1] & 0x7F), header = 2
            if length == 126 {
                guard pending.count - start >= 4 else { break }
                length = Int(pending[start + 2]) << 8 | Int(pending[start + 3])
                header = 4
            } else if length == 127 {
                guard pending.count - start >= 10 else { break }
                length = pending[(start + 2)..<(start + 10)].reduce(0) { $0 << 8 | Int($1) }
                header = 10
            }
            guard pending.count - start >= header + length else { break }
            if pending[start] & 0x0F == 1 {
                lines.append(contentsOf: pending[(start + header)..<(start + header + length)])
                lines.append(0x0A)
            }
            start += header + length
        }
        pending.removeSubrange(0..<start)
    }
}
