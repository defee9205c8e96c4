@testable import ChatCore

/// The commands' former enum spellings (`.nick("Bob")`, `.join(room:)`), built from the
/// standard table's entries, so the parser tests state what they always stated.
extension Command {
    private static func run(_ id: String, _ values: [CommandArgument]) -> Command {
        guard let invocation = CommandTable.standard.invocation(id, values) else { return .invalid(.unknownCommand, "no command \(id)") }
        return .run(invocation)
    }
    private static func optional(_ text: String?) -> CommandArgument { text.map(CommandArgument.text) ?? .absent }

    static func nick(_ name: String) -> Command { run("nick", [.text(name)]) }
    static func join(room: String, key: String? = nil) -> Command { run("join", [.text(room), optional(key)]) }
    static func part(room: String?, reason: String?) -> Command { run("part", [optional(room), optional(reason)]) }
    static func sayTo(room: String, text: ArraySlice<UInt8>) -> Command { run("sayTo", [.text(room), .bytes(text)]) }
    static func me(_ text: ArraySlice<UInt8>) -> Command { run("me", [.bytes(text)]) }
    static func msg(to: String, text: ArraySlice<UInt8>) -> Command { run("msg", [.text(to), .bytes(text)]) }
    static var rooms: Command { run("rooms", []) }
    static func who(room: String?) -> Command { run("who", [optional(room)]) }
    static var users: Command { run("users", []) }
    static func topic(room: String, text: String?) -> Command { run("topic", [.text(room), optional(text)]) }
    static func away(_ text: String?) -> Command { run("away", [optional(text)]) }
    static func whois(_ name: String) -> Command { run("whois", [.text(name)]) }
    static func ping(_ token: String?) -> Command { run("ping", [optional(token)]) }
    static func quit(_ reason: String?) -> Command { run("quit", [optional(reason)]) }
    static var help: Command { run("help", []) }
    static func history(room: String?, count: Int?) -> Command { run("history", [optional(room), count.map(CommandArgument.number) ?? .absent]) }
    static func roomBan(room: String, name: String) -> Command { run("roomBan", [.text(room), .text(name)]) }
    static func ban(target: String, seconds: Double?) -> Command { run("ban", [.text(target), seconds.map(CommandArgument.seconds) ?? .absent]) }
}
