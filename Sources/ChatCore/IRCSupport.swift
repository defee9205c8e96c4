/// What chatd tells an IRC client about itself: the RPL_ISUPPORT (005) tokens, derived from the
/// real limits (`ChatLimits`, `NameRules`) so they can never promise more than the hub keeps,
/// and the IRCv3 capabilities it offers.
public enum IRCSupport {
    /// Most targets one PRIVMSG/NOTICE may name (`TARGMAX`); more get 407 and nothing is sent.
    public static let maxMessageTargets = 4
    /// Most tokens on one 005 line (modern.ircdocs.horse: "1-13 tokens").
    public static let tokensPerLine = 13

    /// The ISUPPORT tokens, in a stable order. Each one is true of chatd:
    /// `CASEMAPPING=ascii` because `NameRules.fold` folds only A–Z; `PREFIX=(o)@` because a
    /// room has one kind of privileged member, its owner; `CHANMODES=b,k,,` because rooms have
    /// bans (list mode) and a key (parameter mode) and nothing else.
    public static func tokens(limits: ChatLimits) -> [String] {
        let join = limits.maxRoomsPerClient
        return [
            "AWAYLEN=\(limits.maxAwayBytes)",
            "CASEMAPPING=ascii",
            "CHANLIMIT=#:\(limits.maxRoomsPerClient)",
            "CHANMODES=b,k,,",
            "CHANNELLEN=\(NameRules.maxRoomLength)",
            "CHANTYPES=#",
            "KICKLEN=\(limits.maxReasonBytes)",
            "MAXTARGETS=\(maxMessageTargets)",
            "MODES=1",
            "NETWORK=\(IRCNames.server)",
            "NICKLEN=\(NameRules.maxNameLength)",
            "PREFIX=(o)@",
            "TARGMAX=JOIN:\(join),PART:\(join),PRIVMSG:\(maxMessageTargets),NOTICE:\(maxMessageTargets),KICK:1,NAMES:1,WHOIS:1",
            "TOPICLEN=\(limits.maxTopicBytes)",
        ]
    }

    /// The 005 lines for `nick`, at most `tokensPerLine` tokens each.
    public static func isupportLines(nick: String, limits: ChatLimits) -> [IRCMessage] {
        let all = tokens(limits: limits)
        return stride(from: 0, to: all.count, by: tokensPerLine).map { start in
            let chunk = Array(all[start..<min(start + tokensPerLine, all.count)])
            return IRCMessage(source: IRCNames.server, IRCNumeric.isupport.rawValue, [nick] + chunk + ["are supported by this server"])
        }
    }
}

/// The IRCv3 capabilities chatd offers, as a set a connection has enabled.
public struct IRCCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let capNotify = IRCCapabilities(rawValue: 1 << 0)
    public static let serverTime = IRCCapabilities(rawValue: 1 << 1)
    public static let batch = IRCCapabilities(rawValue: 1 << 2)
    public static let echoMessage = IRCCapabilities(rawValue: 1 << 3)
    public static let multiPrefix = IRCCapabilities(rawValue: 1 << 4)
    public static let awayNotify = IRCCapabilities(rawValue: 1 << 5)
    public static let messageTags = IRCCapabilities(rawValue: 1 << 6)
    public static let sasl = IRCCapabilities(rawValue: 1 << 7)

    /// Every capability by its wire name, in `CAP LS` order. `sasl` carries its mechanism list
    /// as a 302 value (`sasl=PLAIN`).
    public static let named: [(name: String, capability: IRCCapabilities)] = [
        ("away-notify", .awayNotify), ("batch", .batch), ("cap-notify", .capNotify), ("echo-message", .echoMessage),
        ("message-tags", .messageTags), ("multi-prefix", .multiPrefix), ("sasl", .sasl), ("server-time", .serverTime),
    ]

    /// The `CAP LS` list; with version 302 or later, `sasl=PLAIN`.
    public static func listing(version: Int) -> String {
        named.map { $0.name == "sasl" && version >= 302 ? "sasl=PLAIN" : $0.name }.joined(separator: " ")
    }

    /// The capability a `CAP REQ` word names; nil for one chatd does not offer.
    public static func named(_ word: Substring) -> IRCCapabilities? {
        named.first { $0.name == word.lowercased() }?.capability
    }

    /// The enabled capabilities' names, for `CAP LIST`.
    public var names: [String] { Self.named.filter { contains($0.capability) }.map(\.name) }
}
