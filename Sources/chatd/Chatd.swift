import ArgumentParser
import ChatCore

/// The `chatd` command: `serve` (the default) runs the daemon, `client` talks to one.
struct Chatd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatd",
        abstract: "A multi-client TCP chat daemon on one libev reactor.",
        discussion: "Run with no subcommand to serve. Connect with nc, telnet or `chatd client`. Every serve option can also be set as CHATD_<OPTION> in the environment (CHATD_MAX_LINE_RATE=5, CHATD_NO_HISTORY=1); the command line wins.",
        version: "chatd \(ChatdVersion.current)",
        subcommands: [Serve.self, Client.self, Check.self],
        defaultSubcommand: Serve.self
    )
}

/// Entry point: environment options are added to the serve command's arguments, then
/// ArgumentParser runs the chosen subcommand.
@main
enum Main {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let environment = EnvironmentOptions.current
        if arguments.first == "check" || arguments == ["--version"] {
            // No environment options: a health check takes only its own arguments.
        } else if arguments.first == "client" {
            arguments = ["client"] + EnvironmentOptions.arguments(for: Client.self, Array(arguments.dropFirst()), environment: environment)
        } else {
            let explicit = arguments.first == "serve"
            let rest = explicit ? Array(arguments.dropFirst()) : arguments
            if !rest.contains(where: { $0 == "--help" || $0 == "-h" }) {
                arguments = ["serve"] + EnvironmentOptions.arguments(for: Serve.self, rest, environment: environment)
            }
        }
        Chatd.main(arguments)
    }
}
