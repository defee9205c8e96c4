import CSQLite

/// A failed SQLite call: what chatd was doing, SQLite's own message and its result code, e.g.
/// `open /var/lib/chatd.db: file is not a database (sqlite 26)`.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    /// The extended result code (extended codes are switched on for every connection).
    public let code: Int32
    public let context: String
    public let message: String

    public init(code: Int32, context: String, message: String) {
        self.code = code
        self.context = context
        self.message = message
    }

    public var description: String { "\(context): \(message) (sqlite \(code))" }

    /// The disk (or the file-size limit) is full: chat goes on and the batch is reported lost.
    public var isDiskFull: Bool { code & 0xFF == SQLITE_FULL }
}
