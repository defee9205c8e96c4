import COpenSSL

/// Hashing and base64 from OpenSSL's libcrypto (already linked for TLS), so chatd carries no
/// hand-written SHA-1: the WebSocket handshake's `Sec-WebSocket-Accept` is
/// base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2).
public enum Digest {
    /// SHA-1 of `bytes` (20 bytes). Throws only if libcrypto itself fails (no SHA-1 provider).
    public static func sha1(_ bytes: [UInt8]) throws(TLSError) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // The three buffers live for the whole call; EVP_Digest keeps none of them.
        let status = bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha1(), nil)
            }
        }
        guard status == 1, length == 20 else { throw TLSError.fromQueue("EVP_Digest(SHA-1)") }
        return Array(digest[0..<20])
    }

    /// Standard base64 with padding, no line breaks.
    public static func base64(_ bytes: [UInt8]) -> String {
        // EVP_EncodeBlock writes 4 bytes per 3 (rounded up) plus a NUL.
        var output = [UInt8](repeating: 0, count: (bytes.count + 2) / 3 * 4 + 1)
        let written = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                EVP_EncodeBlock(out.baseAddress, input.baseAddress, Int32(input.count))
            }
        }
        return String(decoding: output[0..<max(0, Int(written))], as: UTF8.self)
    }

    /// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
    public static func webSocketAccept(key: String, guid: String) throws(TLSError) -> String {
        base64(try sha1(Array((key + guid).utf8)))
    }
}
