import EventIO

/// The TLS listener's settings (`--tls-*`). The port is fixed for the life of the process; the
/// certificate and key files are re-read on SIGHUP (and their paths, like the two bounds, may
/// change in the `--config` file).
public struct TLSSettings: Sendable, Equatable {
    /// The TLS port; nil: no TLS listener.
    public var port: UInt16?
    /// PEM certificate chain, leaf first (Let's Encrypt's `fullchain.pem`).
    public var certificatePath: String?
    /// PEM private key of the leaf (Let's Encrypt's `privkey.pem`).
    public var keyPath: String?
    /// A TLS client that has not finished its handshake this long after connecting is closed
    /// (slow-loris on TLS: a handshake holds a descriptor and tens of KiB in OpenSSL).
    public var handshakeTimeout = 10.0
    /// Handshakes in flight at once; at the bound the TLS listener stops accepting until one
    /// finishes, so a flood of ClientHellos waits in the kernel's queue instead of taking the
    /// loop's memory and CPU from chat.
    public var maxHandshakes = 256

    public init() {}

    /// A TLS listener needs both files: the line that says which is missing, or nil.
    var missingFile: String? {
        guard port != nil else { return nil }
        if certificatePath == nil { return "--tls-port needs --tls-cert (a PEM certificate chain)" }
        if keyPath == nil { return "--tls-port needs --tls-key (the PEM private key)" }
        return nil
    }
}
