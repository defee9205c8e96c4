import CSQLite

/// A prepared statement. Bind, step through the rows, and it resets itself for the next use.
public final class Statement {
    /// `sqlite3_stmt *`, finalized in deinit.
    private let handle: OpaquePointer
    private let database: Database

    init(handle: OpaquePointer, database: Database) {
        self.handle = handle
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    /// Clears the previous run and binds `values` to `?1`, `?2`, … in order.
    public func bind(_ values: SQLValue...) throws {
        try bind(values)
    }

    private func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let result: Int32
            switch value {
            case .integer(let number): result = sqlite3_bind_int64(handle, index, number)
            case .real(let number): result = sqlite3_bind_double(handle, index, number)
            case .text(let text): result = sqlite3_bind_text(handle, index, text, -1, csqlite_transient())
            case .null: result = sqlite3_bind_null(handle, index)
            }
            if result != SQLITE_OK { throw database.error(result, "bind ?\(index)") }
        }
    }

    /// Binds `values` to `?1`… and `text` after them, runs the statement once to completion
    /// and resets it. `text` is bound without a copy (SQLITE_STATIC): the history writer's chunk
    /// bodies are up to 96 KiB, a few a second under a flood, and a copy of each is a
    /// malloc and a memcpy SQLite makes again for the row's record anyway. The binding is cleared
    /// before the buffer is let go, so the statement never holds a pointer past this call.
    public func run(_ values: SQLValue..., text: [UInt8]) throws {
        try bind(values)
        let index = Int32(values.count + 1)
        try text.withUnsafeBufferPointer { buffer in
            // Lifetime: `buffer` is valid only inside this closure; bound, stepped and unbound here.
            let result = buffer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    sqlite3_bind_text(handle, index, $0, Int32(buffer.count), csqlite_static())
                }
            } ?? sqlite3_bind_text(handle, index, "", 0, csqlite_transient())
            if result != SQLITE_OK { throw database.error(result, "bind ?\(index)") }
            // Results not checked: reset repeats the step's error (already thrown), and binding
            // NULL to a parameter that was just bound cannot fail.
            defer { sqlite3_reset(handle); sqlite3_bind_null(handle, index) }
            while try step() {}
        }
    }

    /// Advances to the next row: true if there is one, false when done (then it is reset).
    @discardableResult
    public func step() throws -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(handle)
            return false
        default:
            let error = database.error(result, "step")
            sqlite3_reset(handle)
            throw error
        }
    }

    public func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func real(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    /// True for INTEGER and REAL values: what `real` reads without a text conversion.
    public func isNumber(_ column: Int32) -> Bool {
        let type = sqlite3_column_type(handle, column)
        return type == SQLITE_INTEGER || type == SQLITE_FLOAT
    }

    /// The column as text ("" for NULL). Valid UTF-8 is guaranteed: chatd stores only sanitised text.
    public func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// The column's bytes, as stored.
    public func bytes(_ column: Int32) -> [UInt8] {
        guard let bytes = sqlite3_column_text(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeBufferPointer(start: bytes, count: count))
    }
}

/// A value to bind to a statement parameter.
public enum SQLValue {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null
}
