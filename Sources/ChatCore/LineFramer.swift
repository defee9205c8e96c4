/// Turns a client's arbitrary byte chunks into sanitised lines, one connection's worth of state.
///
/// - A line ends at `\n`, `\r\n`, a bare `\r`, or telnet's `\r\0`; a `\r` at the end of one read
///   is remembered so that a `\n` or `\0` opening the next read does not produce an empty line.
/// - Telnet commands (IAC 0xFF …, including sub-negotiations) are removed and reported as
///   `.telnet` events so the I/O layer can refuse options (telnet discards all later output if
///   its TIMING-MARK after Ctrl-C is never answered).
/// - C0 controls except TAB, and DEL, are dropped as they arrive; `Sanitizer` validates UTF-8 and
///   drops C1 controls when the line completes. No control byte ever reaches another client.
/// - A line longer than `maxLineBytes` is dropped whole: buffering stops at the cap, the rest is
///   discarded up to the next line end, and one `.overlong` event is reported. Dropping the whole
///   line (rather than relaying a truncated prefix) never cuts a UTF-8 sequence or a command.
/// - Empty lines are ignored.
public struct LineFramer: Sendable {
    /// What the framer found in the input, in order.
    public enum Event: Equatable, Sendable {
        /// A complete, sanitised, valid UTF-8 line without its terminator.
        case line([UInt8])
        /// A line exceeded the cap and was dropped.
        case overlong
        /// A line was not valid UTF-8 and was dropped.
        case invalidUTF8
        /// A telnet option negotiation (`verb` is WILL 251, WONT 252, DO 253 or DONT 254).
        case telnetNegotiation(verb: UInt8, option: UInt8)
        /// A two-byte telnet command such as IP (244) or AYT (246).
        case telnetCommand(UInt8)
    }

    public let maxLineBytes: Int
    /// Bytes of the unfinished line. Its storage is released after each line so idle connections
    /// hold no buffer (see `releaseThreshold`).
    private var partial: [UInt8] = []
    private var afterCR = false
    private var discarding = false
    private var telnet = TelnetState.data
    /// Set when the caller of `feedWhileAccepted` refuses further events; read after each step.
    private var stopRequested = false

    /// Line storage above this capacity is freed after the line completes, so one long line does
    /// not pin memory on a connection that then goes idle.
    private static let releaseThreshold = 256

    private enum TelnetState: Sendable {
        case data, command, option(UInt8), subnegotiation(Int), subnegotiationCommand(Int)
    }

    /// Real sub-negotiations (window size, terminal type) are a few bytes. One that runs past
    /// this is junk that happened to contain IAC SB, and would otherwise swallow the client's
    /// input until a chance IAC SE: give up on it and read data again.
    public static let maxSubnegotiationBytes = 64

    /// Keeps 0x01, the CTCP marker (`\u{1}ACTION waves\u{1}`), on IRC connections; the IRC
    /// dialect removes it before anything is relayed, so no control byte still reaches anyone.
    public let keepsCTCPMarker: Bool

    public init(maxLineBytes: Int = ChatLimits().maxLineBytes, keepsCTCPMarker: Bool = false) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
        self.keepsCTCPMarker = keepsCTCPMarker
    }

    /// True while an unfinished line (or a discarded overlong one) is pending: the hardening
    /// layer limits how long a client may hold one.
    public var hasPartialLine: Bool { !partial.isEmpty || discarding }

    /// Bytes of the unfinished line held (at most `maxLineBytes`), for memory accounting.
    public var bufferedBytes: Int { partial.count }

    /// Feeds one chunk and reports each event to `handle` in input order.
    public mutating func feed<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, _ handle: (Event) -> Void) where Bytes.Index == Int {
        _ = feedWhileAccepted(bytes) { event in
            handle(event)
            return true
        }
    }

    /// Feeds one chunk, reporting events in input order until `handle` returns false; returns
    /// how many bytes were consumed. The bytes after the one that completed the refused-to-
    /// continue event are not looked at, so the caller can keep them as raw bytes (flood
    /// control and the per-pass budget hold input this way, at its wire size, instead of as
    /// parsed lines) and feed them again later.
    public mutating func feedWhileAccepted<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, _ handle: (Event) -> Bool) -> Int where Bytes.Index == Int {
        stopRequested = false
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            if stopRequested { return index - bytes.startIndex }
            // Fast path: a run of bytes that need no per-byte decision is appended in one go.
            if case .data = telnet, !afterCR {
                var runEnd = index
                while runEnd < end {
                    let byte = bytes[runEnd]
                    if byte < 0x20 || byte == 0x7F || byte == 0xFF { break }
                    runEnd += 1
                }
                if runEnd > index {
                    appendRun(bytes[index..<runEnd], handle)
                    index = runEnd
                    continue
                }
            }
            consume(bytes[index], handle)
            index += 1
        }
        return index - bytes.startIndex
    }

    /// The peer ended the stream: an unfinished line is still a line (`printf 'a\nb' | nc -N`
    /// sends `b` with no newline), unless it was an overlong one being discarded.
    public mutating func finish(_ handle: (Event) -> Void) {
        afterCR = false
        telnet = .data
        finishLine { event in
            handle(event)
            return true
        }
    }

    /// Reports one event; a `false` from the caller stops the current `feed` after this byte.
    @inline(__always)
    private mutating func emit(_ event: Event, _ handle: (Event) -> Bool) {
        if !handle(event) { stopRequested = true }
    }

    /// The per-byte state machine, for line ends, controls and telnet commands.
    private mutating func consume(_ byte: UInt8, _ handle: (Event) -> Bool) {
        switch telnet {
        case .data:
            break
        case .command:
            switch byte {
            case 0xFF:  // IAC IAC is an escaped data byte 0xFF (never valid UTF-8).
                telnet = .data
                append(byte, handle)
            case 251...254:
                telnet = .option(byte)
            case 250:
                telnet = .subnegotiation(0)
            default:
                telnet = .data
                emit(.telnetCommand(byte), handle)
            }
            return
        case .option(let verb):
            telnet = .data
            emit(.telnetNegotiation(verb: verb, option: byte), handle)
            return
        case .subnegotiation(let length):
            if length >= Self.maxSubnegotiationBytes {
                telnet = .data
            } else {
                telnet = byte == 0xFF ? .subnegotiationCommand(length + 1) : .subnegotiation(length + 1)
            }
            return
        case .subnegotiationCommand(let length):
            telnet = byte == 240 ? .data : .subnegotiation(length + 1)  // IAC SE ends it.
            return
        }
        if afterCR {
            afterCR = false
            if byte == 0x0A || byte == 0x00 { return }
        }
        switch byte {
        case 0x0A:
            finishLine(handle)
        case 0x0D:
            finishLine(handle)
            afterCR = true
        case 0xFF:
            telnet = .command
        case 0x09:
            append(byte, handle)
        case 0x01 where keepsCTCPMarker:
            append(byte, handle)
        case 0x00..<0x20, 0x7F:
            return  // C0 controls and DEL are never relayed.
        default:
            append(byte, handle)
        }
    }

    @inline(__always)
    private mutating func appendRun<Run: Collection<UInt8>>(_ run: Run, _ handle: (Event) -> Bool) {
        if discarding { return }
        if partial.count + run.count > maxLineBytes {
            discarding = true
            releasePartial()
            emit(.overlong, handle)
            return
        }
        partial.append(contentsOf: run)
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8, _ handle: (Event) -> Bool) {
        if discarding { return }
        if partial.count >= maxLineBytes {
            discarding = true
            releasePartial()
            emit(.overlong, handle)
            return
        }
        partial.append(byte)
    }

    private mutating func finishLine(_ handle: (Event) -> Bool) {
        if discarding {
            discarding = false
            return
        }
        if partial.isEmpty { return }
        if Sanitizer.validateAndStripC1(&partial) {
            if !partial.isEmpty { emit(.line(partial), handle) }
        } else {
            emit(.invalidUTF8, handle)
        }
        releasePartial()
    }

    private mutating func releasePartial() {
        partial.removeAll(keepingCapacity: partial.capacity <= Self.releaseThreshold)
    }
}
