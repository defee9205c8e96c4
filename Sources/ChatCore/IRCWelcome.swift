/// The lines that complete registration: 001–004, the 005 ISUPPORT lines, LUSERS (251, 254,
/// 255) and the MOTD (375/372/376, or 422 when there is none). Pure, so a unit test reads
/// exactly what irssi reads.
public enum IRCWelcome {
    /// What LUSERS reports.
    public struct Counts: Sendable, Equatable {
        public var users: Int
        public var channels: Int

        public init(users: Int, channels: Int) {
            self.users = users
            self.channels = channels
        }
    }

    /// User modes chatd accepts (`+i`, a no-op: chatd lists nobody it does not share a room
    /// with anyway) and channel modes (`+b`, `+k`, `+o` for the owner), for 004.
    public static let userModes = "i"
    public static let channelModes = "bko"

    public static func lines(nick: String, limits: ChatLimits, motd: [String], counts: Counts) -> [IRCMessage] {
        let server = IRCNames.server
        func numeric(_ code: IRCNumeric, _ params: String...) -> IRCMessage {
            IRCMessage(source: server, code.rawValue, [nick] + params)
        }
        let version = "chatd-\(ChatdVersion.current)"
        var lines = [
            numeric(.welcome, "Welcome to the \(server) IRC network, \(nick)"),
            numeric(.yourHost, "Your host is \(server), running version \(version)"),
            numeric(.created, "This server speaks chatd's line protocol and IRC on the same port"),
            IRCMessage(source: server, IRCNumeric.myInfo.rawValue, [nick, server, version, userModes, channelModes]),
        ]
        lines += IRCSupport.isupportLines(nick: nick, limits: limits)
        lines += luserLines(nick: nick, counts: counts)
        lines += motdLines(nick: nick, motd: motd)
        return lines
    }

    public static func luserLines(nick: String, counts: Counts) -> [IRCMessage] {
        let server = IRCNames.server
        return [
            IRCMessage(source: server, IRCNumeric.luserClient.rawValue, [nick, "There are \(counts.users) users and 0 invisible on 1 servers"]),
            IRCMessage(source: server, IRCNumeric.luserChannels.rawValue, [nick, String(counts.channels), "channels formed"]),
            IRCMessage(source: server, IRCNumeric.luserMe.rawValue, [nick, "I have \(counts.users) clients and 0 servers"]),
        ]
    }

    public static func motdLines(nick: String, motd: [String]) -> [IRCMessage] {
        let server = IRCNames.server
        guard !motd.isEmpty else { return [IRCMessage(source: server, IRCNumeric.noMotd.rawValue, [nick, "MOTD File is missing"])] }
        var lines = [IRCMessage(source: server, IRCNumeric.motdStart.rawValue, [nick, "- \(server) Message of the day - "])]
        for line in motd { lines.append(IRCMessage(source: server, IRCNumeric.motd.rawValue, [nick, "- " + line])) }
        lines.append(IRCMessage(source: server, IRCNumeric.endOfMotd.rawValue, [nick, "End of /MOTD command."]))
        return lines
    }
}
