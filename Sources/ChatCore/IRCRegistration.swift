/// Connection registration for one IRC client, as pure state: it reads `CAP`, `PASS`, `NICK`,
/// `USER`, `AUTHENTICATE`, `PING` and `QUIT` and says what to do, and the IRC dialect carries
/// the actions out against the hub (the server password, nick ownership, the password hashing
/// thread). Any other command before registration gets 451.
///
/// The rules it follows (modern.ircdocs.horse "Connection Registration", IRCv3
/// capability-negotiation 302, sasl-3.1):
/// - `CAP LS [302]` (and `CAP REQ`) hold registration open until `CAP END`, however many
///   `NICK`/`USER` lines arrive meanwhile; a client that never ends negotiation is closed by the
///   registration timeout (`isOverdue`). With 302, `cap-notify` is enabled implicitly.
/// - `CAP REQ` is all-or-nothing: one unknown name NAKs the whole request.
/// - `PASS` must come before `NICK`/`USER` complete; a second `PASS` after registration is 462.
/// - `NICK` must be a valid chatd name (432) and free (433, asked of the hub through
///   `nickTaken`); before a nick is accepted numerics address the client as `*`.
/// - `USER` needs four parameters (461); its user name is ignored (chatd has no ident: see
///   `IRCNames`).
/// - `AUTHENTICATE PLAIN` (with `sasl` enabled) takes base64 in chunks of at most 400 bytes,
///   `+` for an empty chunk, `*` to abort (906); the decoded `authzid\0authcid\0password` is
///   handed to the hub as `.verifySASL`, checked off the loop exactly like `/login`, and
///   registration waits for the answer (`saslFinished`). Other mechanisms get 908 and 904.
public struct IRCRegistration: Sendable {
    /// What the dialect must do after a line.
    public enum Action: Equatable, Sendable {
        /// Send this line to the client.
        case send(IRCMessage)
        /// Check `password` for `account` off the loop; answer with `saslFinished`.
        case verifySASL(account: String, password: [UInt8])
        /// Registration can complete: nick and user are known, negotiation is over and no SASL
        /// answer is pending. The dialect checks the server password and sends 001–005.
        case complete
        /// Send `ERROR :text` and close (QUIT, a failed registration).
        case close(String)
    }

    public enum SASLState: Equatable, Sendable {
        case idle
        /// `AUTHENTICATE PLAIN` accepted, `AUTHENTICATE +` sent: collecting the payload.
        case collecting([UInt8])
        /// The hub is checking the password.
        case verifying
        /// Logged in to this account.
        case loggedIn(String)
    }

    /// Longest SASL payload accepted, base64 bytes (a 300-byte password and two names fit).
    public static let maxSASLPayloadBytes = 1200
    /// A chunk of exactly this many bytes means more follow (sasl-3.1).
    public static let saslChunkBytes = 400
    /// Seconds a client may take to register (CAP negotiation included) before it is closed.
    public static let defaultTimeout: Double = 30

    public private(set) var nick: String?
    public private(set) var user: String?
    public private(set) var realName: String?
    /// The `PASS` given, if any (the server password).
    public private(set) var password: [UInt8]?
    public private(set) var capabilities: IRCCapabilities = []
    /// The version of the last `CAP LS` (0: no `CAP LS` seen, 301 for a bare `CAP LS`).
    public private(set) var capVersion = 0
    /// `CAP LS` or `REQ` seen and no `CAP END` yet: registration is held.
    public private(set) var negotiating = false
    public private(set) var sasl: SASLState = .idle
    /// `.complete` was reported; from now on the dialect owns the connection.
    public private(set) var isRegistered = false
    /// When the connection started (the loop's clock), for the registration timeout.
    public let startedAt: Double

    public init(startedAt: Double) { self.startedAt = startedAt }

    /// How numerics address this client: its nick, or `*` before it has one.
    public var target: String { nick ?? "*" }

    /// Whether registration has taken longer than `timeout` seconds.
    public func isOverdue(now: Double, timeout: Double = defaultTimeout) -> Bool {
        !isRegistered && now - startedAt > timeout
    }

    /// The dialect completed registration (after `.complete` and its own checks).
    public mutating func markRegistered() { isRegistered = true }

    /// The dialect refused the nick at completion (taken meanwhile): ask for another.
    public mutating func forgetNick() { nick = nil }

    /// Registration could not complete after all (the nick was taken meanwhile): the next
    /// acceptable NICK completes it.
    public mutating func reopen() { isRegistered = false }

    /// Handles one message before registration. `nickTaken` asks the hub whether a nick belongs
    /// to someone else.
    public mutating func handle(_ message: IRCMessage, nickTaken: (String) -> Bool) -> [Action] {
        var actions: [Action] = []
        switch message.command {
        case "CAP": handleCap(message.params, into: &actions)
        case "PASS":
            if let given = message.params.first { password = Array(given.utf8) } else { actions.append(numeric(.needMoreParams, "PASS", "Not enough parameters")) }
        case "NICK":
            guard let wanted = message.params.first, !wanted.isEmpty else {
                actions.append(numeric(.noNicknameGiven, "No nickname given"))
                break
            }
            if !IRCNames.isValidNick(Substring(wanted)) {
                actions.append(numeric(.erroneousNickname, wanted, "Erroneous nickname"))
            } else if nickTaken(wanted) {
                actions.append(numeric(.nicknameInUse, wanted, "Nickname is already in use"))
            } else {
                nick = wanted
            }
        case "USER":
            guard message.params.count >= 4 else {
                actions.append(numeric(.needMoreParams, "USER", "Not enough parameters"))
                break
            }
            user = message.params[0]
            realName = message.params[3]
        case "AUTHENTICATE": handleAuthenticate(message.params, into: &actions)
        case "PING":
            let token = message.params.first ?? ""
            actions.append(.send(IRCMessage(source: IRCNames.server, "PONG", [IRCNames.server, token])))
        case "PONG": break
        case "QUIT": actions.append(.close("Client quit"))
        default: actions.append(numeric(.notRegistered, "You have not registered"))
        }
        if readyToComplete {
            isRegistered = true
            actions.append(.complete)
        }
        return actions
    }

    /// The hub's answer to `.verifySASL`.
    public mutating func saslFinished(account: String?) -> [Action] {
        guard sasl == .verifying else { return [] }
        var actions: [Action] = []
        if let account {
            sasl = .loggedIn(account)
            let prefix = IRCNames.prefix(of: nick ?? account)
            actions.append(numeric(.loggedIn, prefix, account, "You are now logged in as \(account)"))
            actions.append(numeric(.saslSuccess, "SASL authentication successful"))
        } else {
            sasl = .idle
            actions.append(numeric(.saslFail, "SASL authentication failed"))
        }
        if readyToComplete {
            isRegistered = true
            actions.append(.complete)
        }
        return actions
    }

    private var readyToComplete: Bool {
        !isRegistered && nick != nil && user != nil && !negotiating && sasl != .verifying
    }

    // MARK: CAP

    private mutating func handleCap(_ params: [String], into actions: inout [Action]) {
        guard let sub = params.first?.uppercased() else {
            actions.append(numeric(.needMoreParams, "CAP", "Not enough parameters"))
            return
        }
        switch sub {
        case "LS":
            negotiating = true
            let version = params.count > 1 ? Int(params[1]) ?? 301 : 301
            capVersion = max(capVersion, version)
            if capVersion >= 302 { capabilities.insert(.capNotify) }
            actions.append(.send(IRCMessage(source: IRCNames.server, "CAP", [target, "LS", IRCCapabilities.listing(version: capVersion)])))
        case "LIST":
            actions.append(.send(IRCMessage(source: IRCNames.server, "CAP", [target, "LIST", capabilities.names.joined(separator: " ")])))
        case "REQ":
            negotiating = true
            let requested = params.count > 1 ? params[1] : ""
            if let change = Self.capabilityChange(requested) {
                capabilities.formUnion(change.enable)
                capabilities.subtract(change.disable)
                actions.append(.send(IRCMessage(source: IRCNames.server, "CAP", [target, "ACK", requested])))
            } else {
                actions.append(.send(IRCMessage(source: IRCNames.server, "CAP", [target, "NAK", requested])))
            }
        case "END":
            negotiating = false
        default:
            actions.append(numeric(.invalidCapCommand, sub, "Invalid CAP command"))
        }
    }

    /// What a `CAP REQ` list asks for (`-name` disables); nil when any name is unknown, since
    /// a request is granted whole or not at all.
    public static func capabilityChange(_ requested: String) -> (enable: IRCCapabilities, disable: IRCCapabilities)? {
        var enable: IRCCapabilities = []
        var disable: IRCCapabilities = []
        for word in requested.split(separator: " ") {
            let removing = word.hasPrefix("-")
            guard let capability = IRCCapabilities.named(removing ? word.dropFirst() : word) else { return nil }
            if removing { disable.insert(capability) } else { enable.insert(capability) }
        }
        return (enable, disable)
    }

    // MARK: SASL

    private mutating func handleAuthenticate(_ params: [String], into actions: inout [Action]) {
        guard let argument = params.first, !argument.isEmpty else {
            actions.append(numeric(.needMoreParams, "AUTHENTICATE", "Not enough parameters"))
            return
        }
        if case .loggedIn = sasl {
            actions.append(numeric(.saslAlready, "You have already authenticated using SASL"))
            return
        }
        if argument == "*" {
            if case .collecting = sasl { sasl = .idle }
            actions.append(numeric(.saslAborted, "SASL authentication aborted"))
            return
        }
        switch sasl {
        case .idle:
            guard capabilities.contains(.sasl) else {
                actions.append(numeric(.saslFail, "SASL authentication failed: enable the sasl capability first"))
                return
            }
            guard argument.uppercased() == "PLAIN" else {
                actions.append(numeric(.saslMechanisms, "PLAIN", "are available SASL mechanisms"))
                actions.append(numeric(.saslFail, "SASL authentication failed"))
                return
            }
            sasl = .collecting([])
            actions.append(.send(IRCMessage("AUTHENTICATE", ["+"])))
        case .collecting(var payload):
            if argument != "+" { payload.append(contentsOf: argument.utf8) }
            guard payload.count <= Self.maxSASLPayloadBytes else {
                sasl = .idle
                actions.append(numeric(.saslTooLong, "SASL message too long"))
                return
            }
            if argument.utf8.count == Self.saslChunkBytes {
                sasl = .collecting(payload)
                return
            }
            guard let decoded = Base64.decode(payload), let (account, password) = Self.plainCredentials(decoded) else {
                sasl = .idle
                actions.append(numeric(.saslFail, "SASL authentication failed"))
                return
            }
            sasl = .verifying
            actions.append(.verifySASL(account: account, password: password))
        case .verifying:
            break  // one check at a time; further lines wait
        case .loggedIn:
            break
        }
    }

    /// `authzid\0authcid\0password` (RFC 4616). The account is `authcid`; an `authzid` naming
    /// someone else is refused (chatd has no "log in as another" right).
    public static func plainCredentials(_ decoded: [UInt8]) -> (String, [UInt8])? {
        let parts = decoded.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        let account = String(decoding: parts[1], as: UTF8.self)
        let authorisation = String(decoding: parts[0], as: UTF8.self)
        guard authorisation.isEmpty || NameRules.fold(authorisation) == NameRules.fold(account) else { return nil }
        guard NameRules.isValidName(Substring(account)) else { return nil }
        return (account, Array(parts[2]))
    }

    private func numeric(_ code: IRCNumeric, _ params: String...) -> Action {
        .send(IRCMessage(source: IRCNames.server, code.rawValue, [target] + params))
    }
}

/// Standard base64 (RFC 4648, with padding) decoding for SASL payloads; nil on any invalid input.
public enum Base64 {
    public static func decode(_ text: [UInt8]) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3)
        var index = 0
        while index < text.count {
            var quad: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = text[index + offset]
                let value: UInt32
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
                case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
                case UInt8(ascii: "+"): value = 62
                case UInt8(ascii: "/"): value = 63
                case UInt8(ascii: "="):
                    // Padding only at the end of the last quad.
                    guard index + 4 == text.count, offset >= 2 else { return nil }
                    padding += 1
                    value = 0
                default: return nil
                }
                if padding > 0 && byte != UInt8(ascii: "=") { return nil }
                quad = quad << 6 | value
            }
            out.append(UInt8(truncatingIfNeeded: quad >> 16))
            if padding < 2 { out.append(UInt8(truncatingIfNeeded: quad >> 8)) }
            if padding < 1 { out.append(UInt8(truncatingIfNeeded: quad)) }
            index += 4
        }
        return out
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var quad: UInt32 = 0
            for byte in chunk { quad = quad << 8 | UInt32(byte) }
            quad <<= UInt32(8 * (3 - chunk.count))
            for offset in 0..<4 {
                if offset <= chunk.count {
                    out.append(alphabet[Int((quad >> UInt32(18 - 6 * offset)) & 63)])
                } else {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
