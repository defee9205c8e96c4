/// Turns a browser's bytes into WebSocket messages (RFC 6455 §5), enforcing what a server must:
/// every client frame masked (§5.1), reserved bits zero with no extension negotiated (§5.2),
/// known opcodes only, control frames unfragmented and at most 125 bytes, continuation frames
/// only inside a fragmented message, text valid UTF-8 across fragments (§8.1), and — chatd's own
/// rule — a message no longer than a chat line, checked from the frame header before its
/// payload is buffered, so a client can never make the decoder hold more than one line plus a
/// frame header.
///
/// Feed bytes with `append`, then call `next()` until it returns nil. After a `.fail` event the
/// decoder returns nil forever: the connection sends the close frame and goes.
public struct WebSocketDecoder: Sendable {
    /// What the connection must do next.
    public enum Event: Equatable, Sendable {
        /// A whole text message (its UTF-8 already checked).
        case text([UInt8])
        /// Answer with a pong carrying this payload.
        case ping([UInt8])
        /// A pong (nothing to do; it may be unsolicited, §5.5.3).
        case pong
        /// The peer closes: echo `code` (nil: the close frame carried none) and close.
        case close(code: UInt16?)
        /// The peer broke the protocol: send a close frame with this code and close.
        case fail(WebSocketCloseCode, String)
    }

    /// Longest message (after reassembly), in bytes: chatd's line limit.
    public let maxMessageBytes: Int
    /// Bytes received and not yet consumed (at most one frame header plus one frame payload).
    private var input: [UInt8] = []
    private var consumed = 0
    /// The fragments so far of the data message in progress, and its opcode.
    private var message: [UInt8] = []
    private var messageOpcode: WebSocketOpcode?
    private var utf8 = UTF8Validator()
    private var failed = false

    public init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Most bytes `input` may ever need: a maximal header plus a payload of the largest message.
    /// The caller reads into the decoder no more than this beyond what `next()` has consumed.
    public var maxBufferedBytes: Int { 14 + max(125, maxMessageBytes) }

    /// Bytes waiting for `next()`.
    public var bufferedBytes: Int { input.count - consumed }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if failed { return }
        if consumed > 0 && consumed == input.count {
            input.removeAll(keepingCapacity: true)
            consumed = 0
        } else if consumed > 4096 {
            input.removeFirst(consumed)
            consumed = 0
        }
        input.append(contentsOf: bytes)
    }

    /// The next event, or nil when more bytes are needed (or after a failure).
    public mutating func next() -> Event? {
        var text: [UInt8] = []
        return next(appendingTextTo: &text, separator: nil)
    }

    /// Decodes every whole frame buffered: each text message's bytes are appended to `lines`,
    /// followed by `separator` (a newline: the ordinary line path takes them from there), with no
    /// allocation per message; returns the first other event (ping, pong, close, failure) so the
    /// caller can answer it and call again, or nil when more bytes are needed.
    public mutating func decode(appendingLinesTo lines: inout [UInt8], separator: UInt8 = 0x0A) -> Event? {
        next(appendingTextTo: &lines, separator: separator)
    }

    /// One text message is one chat line: a CR or LF inside it becomes a space, so a message
    /// cannot turn into several lines (several commands) on the line path behind the decoder.
    private static func flattenLineBreaks(_ out: inout [UInt8], from start: Int) {
        for index in start..<out.count where out[index] == 0x0A || out[index] == 0x0D { out[index] = 0x20 }
    }

    /// The decoder's one loop. With a `separator`, text messages go to `out` and the loop goes
    /// on; without one, the first text message is returned as `.text`.
    private mutating func next(appendingTextTo out: inout [UInt8], separator: UInt8?) -> Event? {
        while !failed {
            let available = input.count - consumed
            guard available >= 2 else { return nil }
            let first = input[consumed]
            let second = input[consumed + 1]
            if first & 0x70 != 0 { return fail(.protocolError, "reserved bits set without an extension") }
            guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
                return fail(.protocolError, "unknown opcode \(first & 0x0F)")
            }
            let fin = first & 0x80 != 0
            guard second & 0x80 != 0 else { return fail(.protocolError, "client frames must be masked") }
            var headerLength = 6
            var length = Int(second & 0x7F)
            if length == 126 {
                headerLength = 8
                guard available >= 4 else { return nil }
                length = Int(input[consumed + 2]) << 8 | Int(input[consumed + 3])
            } else if length == 127 {
                headerLength = 14
                guard available >= 10 else { return nil }
                if input[consumed + 2] & 0x80 != 0 { return fail(.protocolError, "64-bit length with its top bit set") }
                var wide: UInt64 = 0
                for index in 2..<10 { wide = wide << 8 | UInt64(input[consumed + index]) }
                // Anything past the line limit fails below; clamp so Int never overflows.
                length = wide > UInt64(Int32.max) ? Int(Int32.max) : Int(wide)
            }
            if opcode.isControl {
                if !fin { return fail(.protocolError, "fragmented control frame") }
                if length > 125 { return fail(.protocolError, "control frame longer than 125 bytes") }
            } else if opcode == .continuation {
                if messageOpcode == nil { return fail(.protocolError, "continuation frame outside a fragmented message") }
                if message.count + length > maxMessageBytes { return fail(.tooBig, "message longer than \(maxMessageBytes) bytes") }
            } else {
                if messageOpcode != nil { return fail(.protocolError, "new message inside a fragmented message") }
                if opcode == .binary { return fail(.unsupportedData, "binary messages are not chat lines") }
                if length > maxMessageBytes { return fail(.tooBig, "message longer than \(maxMessageBytes) bytes") }
            }
            guard available >= headerLength + length else { return nil }
            let maskStart = consumed + headerLength - 4
            let payloadStart = consumed + headerLength
            consumed = payloadStart + length
            // The common frame: a whole text message. Unmasked straight into `out`, checked there.
            if opcode == .text && fin && separator != nil, let separator {
                let start = out.count
                unmask(from: payloadStart, count: length, mask: maskStart, into: &out)
                utf8 = UTF8Validator()
                guard utf8.feed(out[start...]), utf8.isComplete else {
                    out.removeSubrange(start...)
                    return fail(.invalidText, "text message is not UTF-8")
                }
                Self.flattenLineBreaks(&out, from: start)
                out.append(separator)
                continue
            }
            var payload: [UInt8] = []
            payload.reserveCapacity(length)
            unmask(from: payloadStart, count: length, mask: maskStart, into: &payload)
            switch opcode {
            case .ping:
                return .ping(payload)
            case .pong:
                return .pong
            case .close:
                return closeEvent(payload)
            case .text, .continuation:
                if opcode == .text {
                    messageOpcode = .text
                    utf8 = UTF8Validator()
                }
                guard utf8.feed(payload) else { return fail(.invalidText, "text message is not UTF-8") }
                message.append(contentsOf: payload)
                if fin {
                    guard utf8.isComplete else { return fail(.invalidText, "text message ends inside a character") }
                    messageOpcode = nil
                    if let separator {
                        let start = out.count
                        out.append(contentsOf: message)
                        Self.flattenLineBreaks(&out, from: start)
                        out.append(separator)
                        message.removeAll(keepingCapacity: true)
                        continue
                    }
                    let whole = message
                    message.removeAll(keepingCapacity: true)
                    return .text(whole)
                }
            case .binary:
                return fail(.unsupportedData, "binary messages are not chat lines")
            }
        }
        return nil
    }

    /// Appends `count` payload bytes from `input[start...]`, XORed with the 4-byte mask at
    /// `input[mask...]` (§5.3).
    private func unmask(from start: Int, count: Int, mask: Int, into out: inout [UInt8]) {
        let key = (input[mask], input[mask + 1], input[mask + 2], input[mask + 3])
        input.withUnsafeBufferPointer { bytes in
            var index = 0
            while index + 4 <= count {
                out.append(bytes[start + index] ^ key.0)
                out.append(bytes[start + index + 1] ^ key.1)
                out.append(bytes[start + index + 2] ^ key.2)
                out.append(bytes[start + index + 3] ^ key.3)
                index += 4
            }
            while index < count {
                let byte = bytes[start + index]
                switch index & 3 {
                case 0: out.append(byte ^ key.0)
                case 1: out.append(byte ^ key.1)
                default: out.append(byte ^ key.2)
                }
                index += 1
            }
        }
    }

    /// §5.5.1: an empty close, or a valid 2-byte code followed by a UTF-8 reason.
    private mutating func closeEvent(_ payload: [UInt8]) -> Event {
        if payload.isEmpty {
            failed = true
            return .close(code: nil)
        }
        if payload.count == 1 { return fail(.protocolError, "close frame with a 1-byte code") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        if !WebSocketCloseCode.isValidFromPeer(code) { return fail(.protocolError, "close code \(code) is not allowed") }
        var reason = UTF8Validator()
        guard reason.feed(payload[2...]), reason.isComplete else { return fail(.invalidText, "close reason is not UTF-8") }
        failed = true
        return .close(code: code)
    }

    private mutating func fail(_ code: WebSocketCloseCode, _ why: String) -> Event {
        failed = true
        input.removeAll()
        consumed = 0
        message.removeAll()
        return .fail(code, why)
    }
}
