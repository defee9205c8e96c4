/// Validation and cleaning of a completed line, kept apart from framing so both can be tested
/// alone. Relaying raw control bytes lets one user clear, forge or retitle another user's
/// terminal (CWE-150); C0 controls are dropped by `LineFramer`, C1 controls here, because they
/// are only recognisable after UTF-8 decoding (U+0080–U+009F is `C2 80`–`C2 9F`).
public enum Sanitizer {
    /// Checks that `line` is well-formed UTF-8 (no overlongs, surrogates or code points above
    /// U+10FFFF) and removes C1 control characters in place. Returns false if it is not UTF-8.
    public static func validateAndStripC1(_ line: inout [UInt8]) -> Bool {
        // Most chat is ASCII, which is valid and has no C1 controls: check that first.
        var ascii = true
        for byte in line where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return true }
        let count = line.count
        var read = 0
        var write = 0
        var sawC1 = false
        while read < count {
            let lead = line[read]
            let length: Int
            if lead < 0x80 {
                length = 1
            } else if lead >= 0xC2 && lead <= 0xDF {
                length = 2
            } else if lead >= 0xE0 && lead <= 0xEF {
                length = 3
            } else if lead >= 0xF0 && lead <= 0xF4 {
                length = 4
            } else {
                return false
            }
            if read + length > count { return false }
            if length > 1 {
                let second = line[read + 1]
                // The second byte's range depends on the lead byte (RFC 3629 §4).
                let low: UInt8 = lead == 0xE0 ? 0xA0 : (lead == 0xF0 ? 0x90 : 0x80)
                let high: UInt8 = lead == 0xED ? 0x9F : (lead == 0xF4 ? 0x8F : 0xBF)
                if second < low || second > high { return false }
                var index = read + 2
                while index < read + length {
                    if line[index] & 0xC0 != 0x80 { return false }
                    index += 1
                }
            }
            let isC1 = length == 2 && lead == 0xC2 && line[read + 1] < 0xA0
            if isC1 {
                sawC1 = true
            } else if sawC1 {
                for offset in 0..<length { line[write + offset] = line[read + offset] }
                write += length
            } else {
                write += length
            }
            read += length
        }
        if sawC1 { line.removeSubrange(write..<count) }
        return true
    }

    /// Replaces anything that is not printable with `?`, for text the server itself echoes back
    /// (a rejected command name, say) that did not come through `LineFramer`.
    public static func printable(_ text: Substring) -> String {
        String(text.unicodeScalars.map { scalar in
            scalar.properties.generalCategory == .control ? "?" : Character(scalar)
        })
    }
}
