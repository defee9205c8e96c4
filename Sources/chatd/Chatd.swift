import ArgumentParser

/// The `chatd` command: `serve` (the default) runs the daemon, `client` talks to one.
@main
struct Chatd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatd",
        abstract: "A multi-client TCP chat daemon on one libev reactor.",
        discussion: "Run with no subcommand to serve. Connect with nc, telnet or `chatd client`.",
        subcommands: [Serve.self, Client.self],
        defaultSubcommand: Serve.self
    )
}
