import CSodium
import EventIO

/// The server password, kept only as a BLAKE2b digest and compared in constant time, so the
/// comparison leaks neither the password's bytes nor its length.
public struct ServerPassword: Sendable {
    private let digest: [UInt8]

    public init(_ password: [UInt8]) {
        digest = Self.digest(password)
    }

    public func matches(_ attempt: [UInt8]) -> Bool {
        let candidate = Self.digest(attempt)
        return sodium_memcmp(candidate, digest, digest.count) == 0
    }

    private static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(crypto_generichash_BYTES))
        _ = crypto_generichash(&out, out.count, bytes, UInt64(bytes.count), nil, 0)
        return out
    }
}
