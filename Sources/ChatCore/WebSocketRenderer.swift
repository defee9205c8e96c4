/// Browsers on WebSocket (`GET /ws`): each native line in one unmasked text frame, without its
/// newline. A server frame is never masked (RFC 6455 §5.1), so the frame is the same bytes for
/// every browser that receives the message: `RenderOnce` renders it once per message and every
/// WebSocket recipient shares it, like native lines.
///
/// `.raw` bytes pass unframed: they are already WebSocket bytes (a pong, a close frame) or, for a
/// client still in its HTTP request, HTTP.
struct WebSocketRenderer: WireRenderer {
    var protocolName: String { "websocket" }

    func render(_ message: Outgoing, into out: inout [UInt8]) {
        if case .raw(let bytes) = message {
            out.append(contentsOf: bytes)
            return
        }
        let start = out.count
        // A 4-byte header (16-bit length) is reserved before the line is rendered in place;
        // `frame` narrows or widens it once the length is known.
        out.append(contentsOf: [0, 0, 0, 0])
        NativeRenderer().render(message, into: &out)
        frame(from: start, in: &out)
    }

    func renderHistory(room: String, body: [UInt8], into out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        NativeRenderer().renderHistory(room: room, body: body, into: &out)
        frame(from: start, in: &out)
    }

    /// Turns `out[start...]` — four reserved bytes, then a native line with its newline — into
    /// one text frame: the newline dropped, the header written with the shortest length form.
    private func frame(from start: Int, in out: inout [UInt8]) {
        if out.last == 0x0A { out.removeLast() }
        let payload = out.count - start - 4
        var header: [UInt8] = []
        WebSocketFrame.appendHeader(.text, payloadLength: payload, into: &header)
        if header.count == 4 {
            for index in 0..<4 { out[start + index] = header[index] }
        } else {
            // 2 bytes: moves a payload of at most 125 bytes; 10 bytes: a line over 64 KiB
            // (only with a raised --max-line-bytes).
            out.replaceSubrange(start..<(start + 4), with: header)
        }
    }
}

extension WireStyle {
    /// A browser on WebSocket (WebSocketRenderer).
    public static let webSocket = WireStyle(index: 2)
}
