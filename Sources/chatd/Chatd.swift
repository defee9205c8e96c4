import ArgumentParser
import ChatCore
import ChatIO
import EventIO
import Glibc

/// The `chatd` command: `serve` (the default) runs the daemon, `client` talks to one,
/// `hash-password` makes an operators-file hash.
struct Chatd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatd",
        abstract: "A multi-client TCP chat daemon on one libev reactor.",
        discussion: "Run with no subcommand to serve. Connect with nc, telnet or `chatd client`. Every serve option can also be set as CHATD_<OPTION> in the environment (CHATD_MAX_LINE_RATE=5, CHATD_NO_HISTORY=1); the command line wins.",
        version: "chatd \(ChatdVersion.current)",
        subcommands: [Serve.self, Client.self, HashPassword.self, Check.self],
        defaultSubcommand: Serve.self
    )
}

/// Entry point: environment options are added to the serve command's arguments, then
/// ArgumentParser parses them and the chosen subcommand runs.
@main
enum Main {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let environment = EnvironmentOptions.current
        if arguments.first == "check" || arguments == ["--version"] {
            // No environment options: a health check takes only its own arguments.
        } else if arguments.first == "client" {
            arguments = ["client"] + EnvironmentOptions.arguments(for: EnvironmentOptions.options(of: Client.self), Array(arguments.dropFirst()), environment: environment)
        } else if arguments.first == HashPassword.configuration.commandName {
            // Takes no options, so nothing from the environment.
        } else {
            let explicit = arguments.first == "serve"
            let rest = explicit ? Array(arguments.dropFirst()) : arguments
            if !rest.contains(where: { $0 == "--help" || $0 == "-h" }) {
                arguments = ["serve"] + EnvironmentOptions.arguments(for: EnvironmentOptions.settings, rest, environment: environment)
            }
        }
        do {
            var command = try Chatd.parseAsRoot(arguments)
            try command.run()
        } catch {
            exit(with: error, environment: environment)
        }
    }

    /// The README's promise: an error at start is one line on stderr and exit status 1.
    /// ArgumentParser's own `main` prints the error, a usage block and exits 64; here `--help`
    /// (a "clean exit") still prints help and exits 0, an `ExitCode` thrown by `run()` (which
    /// has already said why) keeps its status, and anything else becomes `chatd: <message>`.
    static func exit(with error: Error, environment: [String: String]) -> Never {
        if let code = error as? ExitCode { Glibc.exit(code.rawValue) }
        if Chatd.exitCode(for: error) == .success { Chatd.exit(withError: error) }
        let message = Chatd.message(for: error).split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }.joined(separator: " ")
        writeLineToStandardError("chatd: " + message + EnvironmentOptions.source(of: message, environment: environment))
        Glibc.exit(1)
    }
}
