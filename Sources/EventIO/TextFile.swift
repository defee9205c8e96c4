import Glibc

/// Small text files and stderr lines, for the executables: the settings file, the MOTD,
/// /proc entries, one-line error messages.
public enum TextFile {
    /// Reads at most `limit` bytes of the file at `path` as UTF-8 text (invalid bytes become
    /// U+FFFD). These files are small; the limit keeps a wrong path from reading a huge one.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(SystemError) -> String {
        guard let file = fopen(path, "r") else { throw SystemError("fopen", path, errno: errno) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes.prefix(limit), as: UTF8.self)
    }

    /// The file's lines without their line ends (CR LF too); no empty line for the final one.
    public static func lines(_ path: String) throws(SystemError) -> [String] {
        var lines = try read(path).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

/// Writes one line to stderr at once (not through buffered stdio, which may never flush if
/// the process exits with an error status).
public func writeLineToStandardError(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

extension StringProtocol {
    /// The text without blanks (space, tab, CR) at either end: one line of a settings file.
    public var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
