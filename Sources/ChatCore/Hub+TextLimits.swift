/// Limits on text that is stored or relayed, counted in UTF-8 bytes (see `ChatLimits`).
extension Hub {
    /// Whether a `/part`, `/kick` or `/kill` reason is within `maxReasonBytes`; sends the
    /// error otherwise.
    func reasonFits(_ reason: String?, _ id: ClientID) -> Bool {
        guard let reason, reason.utf8.count > limits.maxReasonBytes else { return true }
        fail(id, .textTooLong, "reasons are limited to \(limits.maxReasonBytes) bytes")
        return false
    }

    /// `text` cut to at most `maxBytes` bytes at a Unicode scalar boundary, so the result is
    /// still valid UTF-8.
    static func prefix(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            let size = String(scalar).utf8.count
            if bytes + size > maxBytes { break }
            kept.append(scalar)
            bytes += size
        }
        return String(kept)
    }
}
