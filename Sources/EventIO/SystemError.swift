import Glibc

/// A failed system call: which call, on what, and the errno captured on the very next line.
/// Renders as `bind(127.0.0.1:7878): Address already in use (errno 98)`.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let context: String
    public let errno: Int32

    public init(_ call: String, _ context: String = "", errno: Int32) {
        self.call = call
        self.context = context
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        return context.isEmpty ? "\(call): \(reason) (errno \(errno))" : "\(call)(\(context)): \(reason) (errno \(errno))"
    }
}

/// The outcome of a non-blocking read or write: `EAGAIN` is a state, not an error.
public enum IOResult: Equatable {
    case done(Int)
    case wouldBlock
    case endOfFile
}
