import ArgumentParser
import ChatCore
import ChatIO
import EventIO

/// `chatd hash-password`: reads one password from stdin and prints its Argon2id string
/// (libsodium's `crypto_pwhash_str`, the limits accounts use) for a line of the operators
/// file. The password is never an argument, so it never shows in `ps` or a shell history;
/// on a terminal it is read without echo.
struct HashPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Read a password on stdin and print its Argon2id hash, for a `NAME HASH` line of --operators-file."
    )

    func run() throws {
        do {
            var password = try PasswordPrompt.readLine(prompt: "password for the operators file: ")
            defer { PasswordPrompt.wipe(&password) }
            let limits = AuthLimits()
            guard (limits.minPasswordBytes...limits.maxPasswordBytes).contains(password.count),
                  !password.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
                writeLineToStandardError("chatd hash-password: passwords are \(limits.minPasswordBytes) to \(limits.maxPasswordBytes) bytes without spaces or control characters")
                throw ExitCode(1)
            }
            print(try PasswordHasher.hashOnce(password))
        } catch let exit as ExitCode {
            throw exit
        } catch {
            writeLineToStandardError("chatd hash-password: \(error)")
            throw ExitCode(1)
        }
    }
}
