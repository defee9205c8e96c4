import CSodium
import EventIO
import Glibc

/// Reads a password from stdin for `chatd hash-password`: from a terminal with echo off and a
/// prompt on stderr (so stdout carries only the hash), from a pipe as it comes.
public enum PasswordPrompt {
    /// Bytes read at most: far over the longest password, so a wrong input cannot make it
    /// read without end.
    static let maxBytes = 4096

    /// The first line of stdin without its line end.
    public static func readLine(prompt: String) throws -> [UInt8] {
        let terminal = isatty(STDIN_FILENO) == 1
        var saved = termios()
        if terminal {
            writeToStandardError(prompt)
            if tcgetattr(STDIN_FILENO, &saved) != 0 { throw SystemError("tcgetattr", "stdin", errno: errno) }
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            if tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0 { throw SystemError("tcsetattr", "stdin", errno: errno) }
        }
        defer {
            if terminal {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
                writeToStandardError("\n")
            }
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < maxBytes {
            let count = read(STDIN_FILENO, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw SystemError("read", "stdin", errno: errno) }
            if count == 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    /// Overwrites a password's bytes (best effort: Swift may have copied the array before).
    public static func wipe(_ bytes: inout [UInt8]) {
        sodium_memzero(&bytes, bytes.count)
    }

    private static func writeToStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
