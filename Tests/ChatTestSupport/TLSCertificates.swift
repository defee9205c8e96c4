import Foundation

/// Throwaway certificates made with the `openssl` command in a temporary directory that is
/// removed when this object goes: a CA, a server certificate for 127.0.0.1 and localhost, a
/// second one (a "renewal", to rotate to) and one for another host name. ECDSA P-256, valid
/// two days.
public final class TLSCertificates: @unchecked Sendable {
    public let directory: String
    public var authority: String { directory + "/ca.pem" }
    /// For 127.0.0.1 and localhost, subject CN=chatd-test-server.
    public var certificate: String { directory + "/server.pem" }
    public var key: String { directory + "/server.key" }
    /// Also for 127.0.0.1 and localhost, subject CN=chatd-test-renewed.
    public var renewedCertificate: String { directory + "/renewed.pem" }
    public var renewedKey: String { directory + "/renewed.key" }
    /// For wrong.example only, signed by the same CA.
    public var wrongHostCertificate: String { directory + "/wrong.pem" }
    public var wrongHostKey: String { directory + "/wrong.key" }

    public static let openssl = "/usr/bin/openssl"

    public init() throws {
        directory = NSTemporaryDirectory() + "chatd-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", directory + "/ca.key", "-out", authority, "-days", "2", "-subj", "/CN=chatd-test-ca",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            try issue("server", commonName: "chatd-test-server", names: "IP:127.0.0.1,DNS:localhost")
            try issue("renewed", commonName: "chatd-test-renewed", names: "IP:127.0.0.1,DNS:localhost")
            try issue("wrong", commonName: "chatd-test-wrong", names: "DNS:wrong.example")
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Copies a certificate and key over `destination`.pem/.key (what certbot's renewal does to
    /// the files a server was started with).
    public func install(certificate: String, key: String, at destination: String) throws {
        for (source, target) in [(certificate, destination + ".pem"), (key, destination + ".key")] {
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: source, toPath: target)
        }
    }

    private func issue(_ name: String, commonName: String, names: String) throws {
        let base = directory + "/" + name
        try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=\(commonName)"])
        let extensions = "subjectAltName=\(names)\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        try extensions.write(toFile: base + ".ext", atomically: true, encoding: .utf8)
        try run(["x509", "-req", "-in", base + ".csr", "-CA", authority, "-CAkey", directory + "/ca.key",
                 "-CAcreateserial", "-out", base + ".pem", "-days", "2", "-extfile", base + ".ext"])
    }

    private func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.openssl)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw TestError("openssl \(arguments.first ?? ""): \(String(decoding: output, as: UTF8.self))")
        }
    }
}

extension Daemon {
    /// The TLS port, read from the "listening for TLS on HOST:PORT" log line (waits for it).
    public func tlsPort(timeout: Double = 10) throws -> UInt16 {
        let deadline = now() + timeout
        while now() < deadline {
            if let found = log.range(of: #"listening for TLS on \S+:(\d+)"#, options: .regularExpression) {
                let text = log[found]
                if let colon = text.lastIndex(of: ":"), let value = UInt16(text[text.index(after: colon)...]) { return value }
            }
            usleep(10_000)
        }
        throw TestError("chatd did not report a TLS port: \(log)")
    }
}
