import COpenSSL

/// A TLS failure with OpenSSL's own words: what was being done, then the reasons from the
/// thread's error queue (which is emptied), e.g.
/// `TLS handshake: wrong version number (SSL routines)`. Errors caused by a peer close only that
/// peer; errors loading a certificate refuse the whole pair.
public struct TLSError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }

    /// `context: reason; reason` from OpenSSL's error queue, or `context: fallback` when the
    /// queue is empty (a bare EOF, a syscall failure with errno already reported elsewhere).
    public static func fromQueue(_ context: String, fallback: String = "unknown error") -> TLSError {
        let reasons = drainQueue()
        return TLSError("\(context): \(reasons.isEmpty ? fallback : reasons.joined(separator: "; "))")
    }

    /// Every error in the thread's OpenSSL queue, oldest first, as "reason (library)"; empties it.
    public static func drainQueue() -> [String] {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            let reason = ERR_reason_error_string(code).map { String(cString: $0) } ?? "error \(code)"
            let library = ERR_lib_error_string(code).map { String(cString: $0) }
            let text = library.map { "\(reason) (\($0))" } ?? reason
            if reasons.count < maxReasons && reasons.last != text { reasons.append(text) }
        }
        return reasons
    }

    /// At most this many reasons are kept in one message: a log line stays one line.
    public static let maxReasons = 4
}
