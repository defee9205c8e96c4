/// How chatd's names appear in IRC, decided once (issue 16: "a name valid in one protocol must
/// be addressable from the other").
///
/// - **Nicks are chatd names, unchanged.** `NameRules.isValidName` (a letter, then letters,
///   digits and `_ - . [ ] { } ^ |`, at most 30) is a subset of what IRC allows in a nickname,
///   so every chosen chatd name is a valid IRC nick and an IRC client's `NICK` must pass the
///   same rule (else 432 ERR_ERRONEUSNICKNAME). A native client that never chose a name is
///   shown by its address (`127.0.0.1:52056`, `[::1]:52056`): that holds no space, comma, `!`
///   or `@`, so it is still one IRC word, and `PRIVMSG 127.0.0.1:52056 :hi` reaches it.
/// - **Channels are chatd rooms, unchanged.** Rooms already start with `#` (`CHANTYPES=#`) and
///   use a subset of what IRC allows; an IRC `JOIN` of a name that is not a valid chatd room
///   (`&local`, `#a,b`, over 50 bytes) gets 479/403 rather than being rewritten.
/// - **Case**: chatd folds only `A–Z` (`NameRules.fold`), which is IRC's `CASEMAPPING=ascii`
///   (not `rfc1459`, where `[]\~` fold to `{}|^`: chatd keeps `[a]` and `{a}` distinct).
/// - **Prefixes do not depend on the recipient**: every user is `nick!nick@chatd`. The user
///   part is the nick (chatd has no ident) and the host is the network name, a cloak, so one
///   rendering of a message serves every IRC member of a room; a user's real address is what
///   WHOIS (and chatd's `/whois`) shows, as today.
public enum IRCNames {
    /// The server's name in numerics and server notices, and the network name (`NETWORK=`).
    public static let server = "chatd"
    /// The host part of every user prefix (see above).
    public static let userHost = "chatd"

    /// `nick!nick@chatd`, appended to `out` (without the leading colon).
    public static func appendPrefix(of nick: String, to out: inout [UInt8]) {
        out.append(contentsOf: nick.utf8)
        out.append(UInt8(ascii: "!"))
        out.append(contentsOf: nick.utf8)
        out.append(UInt8(ascii: "@"))
        out.append(contentsOf: userHost.utf8)
    }

    /// The full prefix as a string, for lines built with `IRCMessage`.
    public static func prefix(of nick: String) -> String {
        var out: [UInt8] = []
        appendPrefix(of: nick, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether an IRC client may take `nick` (the chatd rule, unchanged).
    public static func isValidNick(_ nick: Substring) -> Bool { NameRules.isValidName(nick) }

    /// Whether `target` names a channel (`CHANTYPES=#`) rather than a nick.
    public static func isChannel(_ target: Substring) -> Bool { target.utf8.first == UInt8(ascii: "#") }
}
