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

    public init(maxLineBytes: Int = ChatLimits().maxLineBytes) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
    }

    /// True while an unfinished line (or a discarded overlong one) is pending: the hardening
    /// layer limits how long a client may hold one.
    public var hasPartialLine: Bool { !partial.isEmpty || discarding }

    /// Feeds one chunk and reports each event to `handle` in input order.
    public mutating func feed<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, _ handle: (Event) -> Void) where Bytes.Index == Int {
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
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
    }

    /// The per-byte state machine, for line ends, controls and telnet commands.
    private mutating func consume(_ byte: UInt8, _ handle: (Event) -> Void) {
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
                handle(.telnetCommand(byte))
            }
            return
        case .option(let verb):
            telnet = .data
            handle(.telnetNegotiation(verb: verb, option: byte))
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
        case 0x00..<0x20, 0x7F:
            return  // C0 controls and DEL are never relayed.
        default:
            append(byte, handle)
        }
    }

    @inline(__always)
    private mutating func appendRun<Run: Collection<UInt8>>(_ run: Run, _ handle: (Event) -> Void) {
        if discarding { return }
        if partial.count + run.count > maxLineBytes {
            discarding = true
            releasePartial()
            handle(.overlong)
            return
        }
        partial.append(contentsOf: run)
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8, _ handle: (Event) -> Void) {
        if discarding { return }
        if partial.count >= maxLineBytes {
            discarding = true
            releasePartial()
            handle(.overlong)
            return
        }
        partial.append(byte)
    }

    private mutating func finishLine(_ handle: (Event) -> Void) {
        if discarding {
            discarding = false
            return
        }
        if partial.isEmpty { return }
        if Sanitizer.validateAndStripC1(&partial) {
            if !partial.isEmpty { handle(.line(partial)) }
        } else {
            handle(.invalidUTF8)
        }
        releasePartial()
    }

    private mutating func releasePartial() {
        partial.removeAll(keepingCapacity: partial.capacity <= Self.releaseThreshold)
    }
}
