import CLibEv
import ChatCore
import EventIO
import Glibc

/// `chatd client`: stdin lines go to the server, server lines go to stdout, on one reactor.
///
/// When stdin ends the client sends what it read, half-closes the socket and keeps printing
/// until the server closes (the server answers what it got, then closes), so
/// `printf '/users\n' | chatd client` prints the reply. `lingerSeconds` bounds that wait.
///
/// Stdin is read only while less than `maxUnsentBytes` of it waits for the socket: a server
/// that stops reading stops the client reading stdin (back-pressure, nothing dropped) instead
/// of growing its memory. What the server sends passes through a `TerminalSanitizer` before it
/// reaches the terminal, so a hostile server cannot send escape sequences to it.
///
/// With TLS the handshake (certificate and host name checked as `TLSClientContext` says) is
/// finished before anything is read from stdin; then the same loop runs over the session.
public final class ChatClient {
    private let reactor: Reactor
    private let fd: Int32
    /// The TLS session, or nil for plain TCP.
    private let session: TLSClientSession?
    private var socketWatcher: IOWatcher!
    private var writeWatcher: IOWatcher!
    private var stdinWatcher: IOWatcher!
    private var lingerTimer: TimerWatcher!
    /// What stdin gave and the socket has not taken yet.
    private var outgoing = ByteQueue(keepsCapacity: true)
    private var stdinEnded = false
    /// The last byte read from stdin was not a newline.
    private var stdinNeedsNewline = false
    /// Strips the server's control bytes and escape sequences before they reach stdout.
    private var terminal = TerminalSanitizer()
    private var printable: [UInt8] = []
    private let buffer: UnsafeMutableRawBufferPointer
    /// The process exit status once the loop stops.
    public private(set) var exitStatus: Int32 = 0
    public static let lingerSeconds = 5.0
    /// Stdin bytes read but not yet sent above which the client stops reading stdin until the
    /// socket takes some: the bound on its buffer (one read more at most).
    public static let maxUnsentBytes = 256 * 1024
    /// How long the TLS handshake may take before the client gives up.
    public static let handshakeSeconds = 10.0

    /// Connects at once (and, with `tls`, completes the handshake); a refused connection or
    /// certificate is an error whose text names the address.
    public init(reactor: Reactor, host: String, port: UInt16, tls: TLSClientContext? = nil) throws {
        let address = try SocketAddress(host: host, port: port)
        let fd: Int32
        do {
            fd = try Socket.connect(to: address)
        } catch {
            // Typed: a SystemError. (`catch where` on a typed error crashes Swift 6.3.1's
            // MandatoryAllocBoxToStack, hence the two throws.)
            if error.errno == ECONNREFUSED { throw ClientError(text: "connection refused to \(address)") }
            throw error
        }
        do {
            session = try tls.map { try TLSClientSession(context: $0, fd: fd, host: host) }
            try session?.handshake(fd: fd, timeout: Self.handshakeSeconds)
        } catch {
            Socket.close(fd)
            throw ClientError(text: "\(address): \(error)")
        }
        self.fd = fd
        self.reactor = reactor
        buffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        socketWatcher = IOWatcher(reactor: reactor, fd: fd, events: .read) { [unowned self] _ in socketReadable() }
        writeWatcher = IOWatcher(reactor: reactor, fd: fd, events: .write) { [unowned self] _ in
            sendPending()
            if session?.wants == .write { socketReadable() }  // a TLS read that needed a write
        }
        stdinWatcher = IOWatcher(reactor: reactor, fd: STDIN_FILENO, events: .read) { [unowned self] _ in stdinReadable() }
        lingerTimer = TimerWatcher(reactor: reactor, after: Self.lingerSeconds, repeat: 0) { [unowned self] in finish(0) }
    }

    deinit {
        socketWatcher = nil
        writeWatcher = nil
        stdinWatcher = nil
        lingerTimer = nil
        Socket.close(fd)
        buffer.deallocate()
    }

    /// Runs until the server closes, stdin ends and the linger passes, or an error; returns the
    /// exit status.
    public func run() -> Int32 {
        socketWatcher.start()
        stdinWatcher.start()
        reactor.run()
        return exitStatus
    }

    private func finish(_ status: Int32) {
        exitStatus = status
        socketWatcher.stop()
        writeWatcher.stop()
        stdinWatcher.stop()
        lingerTimer.stop()
        reactor.stop()
    }

    private func socketReadable() {
        do {
            // Plain TCP: one read per event (the watcher is level-triggered). TLS: until OpenSSL
            // has nothing left, since a record it already holds raises no event.
            repeat {
                switch try readSocket() {
                case .done(let count):
                    printable.removeAll(keepingCapacity: true)
                    terminal.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), into: &printable)
                    try printable.withUnsafeBytes { try writeAll(STDOUT_FILENO, $0) }
                case .endOfFile:
                    finish(0)
                    return
                case .wouldBlock:
                    if session?.wants == .write { writeWatcher.start() }
                    if !outgoing.isEmpty { sendPending() }  // a TLS write that needed a read
                    return
                }
            } while session != nil
        } catch {
            printError("\(error)")
            finish(1)
        }
    }

    private func readSocket() throws -> IOResult {
        if let session { return try session.read(into: buffer) }
        return try Socket.read(fd, into: buffer)
    }

    private func writeSocket(_ bytes: UnsafeRawBufferPointer) throws -> IOResult {
        if let session { return try session.write(bytes) }
        return try Socket.write(fd, bytes)
    }

    private func stdinReadable() {
        let count = Glibc.read(STDIN_FILENO, buffer.baseAddress, buffer.count)
        if count < 0 {
            let code = errno
            if code == EINTR || code == EAGAIN { return }
            printError("\(SystemError("read", "stdin", errno: code))")
            finish(1)
            return
        }
        if count == 0 {
            stdinEnded = true
            stdinWatcher.stop()
            // A last line without a newline is still a line: end it, so any server reads it.
            if stdinNeedsNewline { outgoing.append(0x0A) }
        } else {
            outgoing.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            stdinNeedsNewline = buffer[count - 1] != 0x0A
            if outgoing.count >= Self.maxUnsentBytes { stdinWatcher.stop() }  // resumed in sendPending
        }
        sendPending()
    }

    private func sendPending() {
        while !outgoing.isEmpty {
            do {
                let result = try outgoing.withUnsafeBytes { try writeSocket($0) }
                guard case .done(let count) = result else { break }
                outgoing.consume(count)
            } catch {
                printError("\(error)")
                finish(1)
                return
            }
        }
        if !outgoing.isEmpty {
            resumeStdinBelowBound()
            // A TLS write waiting for a read is resumed by socketReadable, not by writability.
            if session?.wants != .read { writeWatcher.start() }
            return
        }
        resumeStdinBelowBound()
        writeWatcher.stop()
        if stdinEnded && !lingerTimer.isActive {
            session?.shutdown()  // close_notify: the server answers what it got, then closes
            if Glibc.shutdown(fd, Int32(SHUT_WR)) != 0 {
                printError("\(SystemError("shutdown", "SHUT_WR", errno: errno))")
            }
            lingerTimer.start()
        }
    }

    /// Reads stdin again once the socket has taken enough of what was read (back-pressure).
    private func resumeStdinBelowBound() {
        if !stdinEnded && !stdinWatcher.isActive && outgoing.count < Self.maxUnsentBytes { stdinWatcher.start() }
    }

    /// Blocking write of everything to stdout (a terminal or a pipe we are meant to fill).
    private func writeAll(_ target: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(target, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                throw SystemError("write", "stdout", errno: code)
            }
            offset += written
        }
    }

    private func printError(_ text: String) { writeLineToStandardError("chatd client: \(text)") }
}

/// A client-mode failure with a message meant for the user as is.
public struct ClientError: Error, CustomStringConvertible {
    public let text: String
    public var description: String { text }
}
