/// Account, room-protection and operator commands.
extension CommandParser {
    /// Help lines for these commands, appended to `/help`.
    static let accountHelp: [(usage: String, summary: String)] = [
        ("/pass PASSWORD", "the server password, when the server has one (before anything else)"),
        ("/register NAME PASSWORD", "register NAME (yours from now on) and log in; passwords are 8-128 bytes, no spaces"),
        ("/login NAME PASSWORD", "log in to a registered name"),
        ("/passwd OLD NEW", "change your password"),
        ("/logout", "log out (your name goes back to your address)"),
        ("/join #room KEY", "join a room that has a key"),
        ("/key #room [KEY]", "owner: set the room's key (no KEY: remove it)"),
        ("/kick #room NAME [reason]", "owner: remove someone from the room"),
        ("/ban #room NAME", "owner: ban a name (a guest's address name: its address) from the room; /unban lifts it"),
        ("/owner #room NAME", "owner: hand the room over to another member"),
        ("/announce text", "operator: a notice to everyone"),
        ("/kill NAME [reason]", "operator: disconnect someone"),
        ("/ban ADDRESS|RANGE|NAME [30m|2h|7d]", "operator: ban server-wide, e.g. 127.0.0.0/8 (/unban lifts it)"),
        ("/stats", "operator: clients, rooms, messages/s, bytes queued, uptime"),
    ]

    /// The command for `word` if it is one of these, else nil.
    static func parseAccountCommand(_ word: String, _ rest: Substring) -> Command? {
        switch word {
        case "pass":
            let (password, extra) = splitWord(rest)
            guard !password.isEmpty, extra.isEmpty else { return usage("/pass PASSWORD") }
            return .pass(Array(password.utf8))
        case "register", "login":
            let (name, rest) = splitWord(rest)
            let (password, extra) = splitWord(rest)
            guard !name.isEmpty, !password.isEmpty, extra.isEmpty else { return usage("/\(word) NAME PASSWORD") }
            return word == "login" ? .login(name: String(name), password: Array(password.utf8))
                                   : .register(name: String(name), password: Array(password.utf8))
        case "passwd":
            let (old, rest) = splitWord(rest)
            let (new, extra) = splitWord(rest)
            guard !old.isEmpty, !new.isEmpty, extra.isEmpty else { return usage("/passwd OLD NEW") }
            return .passwd(old: Array(old.utf8), new: Array(new.utf8))
        case "logout": return noArguments(rest, .logout, usage: "/logout")
        case "key":
            let (room, rest) = splitWord(rest)
            let (key, extra) = splitWord(rest)
            guard room.hasPrefix("#"), extra.isEmpty else { return usage("/key #room [KEY]") }
            return .key(room: String(room), key: key.isEmpty ? nil : String(key))
        case "kick":
            let (room, rest) = splitWord(rest)
            let (name, reason) = splitWord(rest)
            guard room.hasPrefix("#"), !name.isEmpty else { return usage("/kick #room NAME [reason]") }
            return .kick(room: String(room), name: String(name), reason: reason.isEmpty ? nil : String(reason))
        case "ban", "unban":
            let (first, rest) = splitWord(rest)
            let (second, extra) = splitWord(rest)
            if first.hasPrefix("#") {
                guard !second.isEmpty, extra.isEmpty else { return usage("/\(word) #room NAME") }
                return word == "ban" ? .roomBan(room: String(first), name: String(second)) : .roomUnban(room: String(first), name: String(second))
            }
            guard !first.isEmpty, extra.isEmpty else { return usage(word == "ban" ? "/ban ADDRESS|NAME [duration]" : "/unban ADDRESS|NAME") }
            if word == "unban" {
                guard second.isEmpty else { return usage("/unban ADDRESS|NAME") }
                return .unban(target: String(first))
            }
            if second.isEmpty { return .ban(target: String(first), seconds: nil) }
            guard let seconds = duration(second) else {
                return usage("/ban ADDRESS|NAME [duration: 90s, 30m, 2h, 7d; at most \(Int(maxBanSeconds / 86_400))d]")
            }
            return .ban(target: String(first), seconds: seconds)
        case "owner":
            let (room, rest) = splitWord(rest)
            let (name, extra) = splitWord(rest)
            guard room.hasPrefix("#"), !name.isEmpty, extra.isEmpty else { return usage("/owner #room NAME") }
            return .owner(room: String(room), name: String(name))
        case "announce":
            guard !rest.isEmpty else { return usage("/announce text") }
            return .announce(String(rest))
        case "kill":
            let (name, reason) = splitWord(rest)
            guard !name.isEmpty else { return usage("/kill NAME [reason]") }
            return .kill(name: String(name), reason: reason.isEmpty ? nil : String(reason))
        case "stats": return noArguments(rest, .stats, usage: "/stats")
        default: return nil
        }
    }

    /// The longest server ban with a duration (10 years); longer is a ban until lifted (no duration).
    static let maxBanSeconds = Bounded.maxSeconds

    /// `90s`, `30m`, `2h`, `7d` (a bare number is seconds) → seconds; nil if malformed, not
    /// positive or longer than `maxBanSeconds`. The digits are plain decimal (`Bounded`), so
    /// `1e300s`, `infd` and `0x10m` are malformed rather than dates beyond the calendar.
    static func duration(_ text: Substring) -> Double? {
        guard let unit = text.last else { return nil }
        let scale: Double
        var digits = text.dropLast()
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        default:
            scale = 1
            digits = text
        }
        guard let value = Bounded.seconds(to: maxBanSeconds).value(digits) else { return nil }
        let seconds = value * scale
        return seconds > 0 && seconds <= maxBanSeconds ? seconds : nil
    }
}
