/// What one chatd node tells the others through Redis pub/sub, and its bytes on the wire.
///
/// The encoding is tab-separated UTF-8 with a one-letter kind first, the sending node second
/// and the one free-text field (a chat line, a reason, a topic) last, so a tab inside that
/// text needs no escaping: names, rooms, addresses and node names never hold a tab (strict
/// character sets), and decoding splits off only as many fields as the kind has. A published
/// room line is on the hot path: no JSON, no allocation beyond the one payload array.
///
/// A payload is another process's bytes that crossed a network: `decode` checks every field
/// and returns nil for anything malformed instead of trapping.
public enum ClusterMessage: Equatable, Sendable {
    /// A line said in a room (room channel).
    case chat(node: String, room: String, from: String, text: ArraySlice<UInt8>)
    /// `/me` in a room (room channel).
    case action(node: String, room: String, from: String, text: ArraySlice<UInt8>)
    /// A room's topic was set (room channel).
    case topic(node: String, room: String, by: String, text: String)
    /// A server notice to a room's members (a kick, a new owner) (room channel).
    case roomNotice(node: String, room: String, text: String)
    /// A client of `node` joined a room (events channel: every node keeps the membership).
    case joined(node: String, address: String, name: String, room: String)
    /// A client of `node` left a room; an empty reason is none (events channel).
    case left(node: String, address: String, name: String, room: String, reason: String)
    /// A client of `node` changed its name (events channel).
    case renamed(node: String, address: String, old: String, new: String, firstName: Bool)
    /// A client of `node` quit (events channel).
    case quit(node: String, address: String, name: String, reason: String)
    /// `node` (re)joined the cluster: the others read its client records again (events channel).
    case hello(node: String)
    /// An account was registered or its password changed on `node` (events channel): the
    /// folded key, the display name and the Argon2id string (never a password).
    case account(node: String, key: String, name: String, hash: String)
    /// A private message from a client of `node` to the client called `to` on the node whose
    /// channel carries it.
    case privateMessage(node: String, from: String, to: String, text: ArraySlice<UInt8>)

    /// A room's rule changed on `node` (events channel): one field and value of `RoomRules`
    /// (an empty value removes it; the field `*` removes the room's rules), `by` who changed it.
    case rule(node: String, room: String, by: String, field: String, value: String)
    /// An owner on `node` kicks `name` out of `room` (the channel of the node `name` is on,
    /// which carries it out and announces it as `.kicked`).
    case kick(node: String, room: String, name: String, by: String, reason: String)
    /// A client of `node` was removed from a room by its owner, a ban or a kick (events
    /// channel): membership and the notice in one.
    case kicked(node: String, address: String, name: String, room: String, by: String, reason: String)
    /// An operator on `node` banned a name or an address server-wide (events channel); `until`
    /// nil: until lifted.
    case serverBan(node: String, ServerBan)
    /// A server ban was lifted on `node` (events channel).
    case serverUnban(node: String, target: String)

    /// The node that sent it; a node ignores its own messages coming back.
    public var node: String {
        switch self {
        case .chat(let node, _, _, _), .action(let node, _, _, _), .topic(let node, _, _, _), .roomNotice(let node, _, _),
             .joined(let node, _, _, _), .left(let node, _, _, _, _), .renamed(let node, _, _, _, _), .quit(let node, _, _, _),
             .hello(let node), .privateMessage(let node, _, _, _), .account(let node, _, _, _),
             .rule(let node, _, _, _, _), .kick(let node, _, _, _, _), .kicked(let node, _, _, _, _, _),
             .serverBan(let node, _), .serverUnban(let node, _):
            return node
        }
    }

    private static let tab: UInt8 = 0x09

    /// The payload bytes.
    public func encoded() -> [UInt8] {
        switch self {
        case .chat(let node, let room, let from, let text): return Self.join("c", [node, room, from], text)
        case .action(let node, let room, let from, let text): return Self.join("a", [node, room, from], text)
        case .topic(let node, let room, let by, let text): return Self.join("t", [node, room, by], ArraySlice(text.utf8))
        case .roomNotice(let node, let room, let text): return Self.join("n", [node, room], ArraySlice(text.utf8))
        case .joined(let node, let address, let name, let room): return Self.join("j", [node, address, name], ArraySlice(room.utf8))
        case .left(let node, let address, let name, let room, let reason):
            return Self.join("l", [node, address, name, room], ArraySlice(reason.utf8))
        case .renamed(let node, let address, let old, let new, let firstName):
            return Self.join("r", [node, address, old, new], ArraySlice((firstName ? "1" : "0").utf8))
        case .quit(let node, let address, let name, let reason): return Self.join("q", [node, address, name], ArraySlice(reason.utf8))
        case .hello(let node): return Self.join("h", [], ArraySlice(node.utf8))
        case .privateMessage(let node, let from, let to, let text): return Self.join("p", [node, from, to], text)
        case .account(let node, let key, let name, let hash): return Self.join("A", [node, key, name], ArraySlice(hash.utf8))
        case .rule(let node, let room, let by, let field, let value): return Self.join("R", [node, room, by, field], ArraySlice(value.utf8))
        case .kick(let node, let room, let name, let by, let reason): return Self.join("k", [node, room, name, by], ArraySlice(reason.utf8))
        case .kicked(let node, let address, let name, let room, let by, let reason):
            return Self.join("K", [node, address, name, room, by], ArraySlice(reason.utf8))
        case .serverBan(let node, let ban): return Self.join("B", [node] + ban.clusterFields, ArraySlice(ban.setBy.utf8))
        case .serverUnban(let node, let target): return Self.join("U", [node], ArraySlice(target.utf8))
        }
    }

    private static func join(_ kind: String, _ fields: [String], _ last: ArraySlice<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 + fields.reduce(0) { $0 + $1.utf8.count + 1 } + last.count)
        bytes.append(contentsOf: kind.utf8)
        for field in fields {
            bytes.append(tab)
            bytes.append(contentsOf: field.utf8)
        }
        bytes.append(tab)
        bytes.append(contentsOf: last)
        return bytes
    }

    /// Parses a payload; nil if it is not one this version writes (unknown kind, missing
    /// fields, a tab where none may be, invalid UTF-8, an empty node).
    public static func decode(_ payload: ArraySlice<UInt8>) -> ClusterMessage? {
        guard let kind = payload.first, payload.count >= 2, payload[payload.startIndex + 1] == tab else { return nil }
        let body = payload[(payload.startIndex + 2)...]
        func fields(_ count: Int) -> (names: [String], last: ArraySlice<UInt8>)? {
            let parts = body.split(separator: tab, maxSplits: count, omittingEmptySubsequences: false)
            guard parts.count == count + 1 else { return nil }
            var names: [String] = []
            for part in parts.dropLast() {
                guard !part.isEmpty, let text = String(validating: part, as: UTF8.self) else { return nil }
                names.append(text)
            }
            // No control bytes but TAB anywhere: a line break from a peer would forge lines.
            guard !body.contains(where: { ($0 < 0x20 && $0 != tab) || $0 == 0x7F }),
                  String(validating: parts[count], as: UTF8.self) != nil else { return nil }
            return (names, parts[count])
        }
        func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        switch kind {
        case UInt8(ascii: "c"):
            guard let f = fields(3) else { return nil }
            return .chat(node: f.names[0], room: f.names[1], from: f.names[2], text: f.last)
        case UInt8(ascii: "a"):
            guard let f = fields(3) else { return nil }
            return .action(node: f.names[0], room: f.names[1], from: f.names[2], text: f.last)
        case UInt8(ascii: "t"):
            guard let f = fields(3) else { return nil }
            return .topic(node: f.names[0], room: f.names[1], by: f.names[2], text: text(f.last))
        case UInt8(ascii: "n"):
            guard let f = fields(2) else { return nil }
            return .roomNotice(node: f.names[0], room: f.names[1], text: text(f.last))
        case UInt8(ascii: "j"):
            guard let f = fields(3), !f.last.isEmpty, !f.last.contains(tab) else { return nil }
            return .joined(node: f.names[0], address: f.names[1], name: f.names[2], room: text(f.last))
        case UInt8(ascii: "l"):
            guard let f = fields(4) else { return nil }
            return .left(node: f.names[0], address: f.names[1], name: f.names[2], room: f.names[3], reason: text(f.last))
        case UInt8(ascii: "r"):
            guard let f = fields(4), f.last.elementsEqual("0".utf8) || f.last.elementsEqual("1".utf8) else { return nil }
            return .renamed(node: f.names[0], address: f.names[1], old: f.names[2], new: f.names[3], firstName: f.last.first == UInt8(ascii: "1"))
        case UInt8(ascii: "q"):
            guard let f = fields(3) else { return nil }
            return .quit(node: f.names[0], address: f.names[1], name: f.names[2], reason: text(f.last))
        case UInt8(ascii: "h"):
            guard let f = fields(0), !f.last.isEmpty, !f.last.contains(tab) else { return nil }
            return .hello(node: text(f.last))
        case UInt8(ascii: "p"):
            guard let f = fields(3) else { return nil }
            return .privateMessage(node: f.names[0], from: f.names[1], to: f.names[2], text: f.last)
        case UInt8(ascii: "A"):
            guard let f = fields(3), NameRules.isValidName(Substring(f.names[2])), NameRules.fold(f.names[2]) == f.names[1],
                  !f.last.isEmpty, !f.last.contains(tab) else { return nil }
            return .account(node: f.names[0], key: f.names[1], name: f.names[2], hash: text(f.last))
        case UInt8(ascii: "R"):
            guard let f = fields(4), NameRules.isValidRoom(Substring(f.names[1])) else { return nil }
            return .rule(node: f.names[0], room: f.names[1], by: f.names[2], field: f.names[3], value: text(f.last))
        case UInt8(ascii: "k"):
            guard let f = fields(4), NameRules.isValidRoom(Substring(f.names[1])) else { return nil }
            return .kick(node: f.names[0], room: f.names[1], name: f.names[2], by: f.names[3], reason: text(f.last))
        case UInt8(ascii: "K"):
            guard let f = fields(5), NameRules.isValidRoom(Substring(f.names[3])) else { return nil }
            return .kicked(node: f.names[0], address: f.names[1], name: f.names[2], room: f.names[3], by: f.names[4], reason: text(f.last))
        case UInt8(ascii: "B"):
            guard let f = fields(4), let ban = ServerBan(clusterFields: Array(f.names[1...3]), setBy: text(f.last)) else { return nil }
            return .serverBan(node: f.names[0], ban)
        case UInt8(ascii: "U"):
            guard let f = fields(1), !f.last.isEmpty, !f.last.contains(tab) else { return nil }
            return .serverUnban(node: f.names[0], target: text(f.last))
        default:
            return nil
        }
    }
}

extension ServerBan {
    /// Target, `address` or `name`, and the end (`-`: until lifted): how a ban travels between
    /// nodes and is kept in `chatd:bans` (with the setter last).
    public var clusterFields: [String] {
        [target, isAddress ? "address" : "name", until.map { String($0) } ?? "-"]
    }

    /// A ban from its cluster fields; nil when one is malformed (an end that is not a finite
    /// number, an unknown kind, an empty target or setter).
    public init?(clusterFields fields: [String], setBy: String) {
        guard fields.count == 3, !fields[0].isEmpty, !fields[0].contains("\t"), !setBy.isEmpty,
              fields[1] == "address" || fields[1] == "name" else { return nil }
        var until: Double?
        if fields[2] != "-" {
            guard let end = Double(fields[2]), end.isFinite else { return nil }
            until = end
        }
        self.init(target: fields[0], isAddress: fields[1] == "address", until: until, setBy: setBy)
    }

    /// The value kept in the hash `chatd:bans` under the ban's target.
    public var clusterValue: String { clusterFields.dropFirst().joined(separator: "\t") + "\t" + setBy }

    /// A ban read from `chatd:bans`: its target and value.
    public init?(target: String, clusterValue: String) {
        let parts = clusterValue.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { return nil }
        self.init(clusterFields: [target, parts[0], parts[1]], setBy: parts[2])
    }
}

/// Redis channel and key names, in one place (the README's "Redis layout" lists them).
public enum ClusterKeys {
    /// Room lines of one room (folded name): only nodes with members there subscribe.
    public static func roomChannel(_ roomKey: String) -> String { "chatd:room:" + roomKey }
    /// Membership, renames, quits and hellos: every node subscribes.
    public static let eventsChannel = "chatd:events"
    /// Messages for one node's clients (private messages).
    public static func nodeChannel(_ node: String) -> String { "chatd:node:" + node }
    /// Stream of one room's history (folded name), trimmed to about `--history-max-lines`.
    public static func historyStream(_ roomKey: String) -> String { "chatd:history:" + roomKey }
    /// How many lines that stream holds (its entries hold several): what its trimming counts.
    public static func historyLines(_ roomKey: String) -> String { "chatd:history-lines:" + roomKey }
    /// Hash of every account: folded name → `name TAB argon2id-string`.
    public static let accountsHash = "chatd:accounts"
    /// The sender of what Redis itself announces (a room's rules cleared by a script): no
    /// node can be called that (`RedisURL.isValidNodeName`), so every node applies it.
    public static let redisAsNode = "*"
    /// The next four are written by the Lua scripts (ClusterScripts.swift), which spell the
    /// same names themselves: listed here so every key chatd uses is in one place.
    /// Hash of one room's rules (folded name): `RoomRules`' fields.
    public static func rulesHash(_ roomKey: String) -> String { "chatd:rules:" + roomKey }
    /// Set of the rooms (folded) that have a rules hash: read whole when a node joins.
    public static let ruledRooms = "chatd:ruled-rooms"
    /// Set of the nodes with members in a room (folded): the room's rules go when it empties.
    public static func roomNodes(_ roomKey: String) -> String { "chatd:room-nodes:" + roomKey }
    /// Set of the rooms (folded) a node has members in: freed with the node.
    public static func nodeRooms(_ node: String) -> String { "chatd:node-rooms:" + node }
    /// Hash of every server ban: target → `address|name TAB end TAB setter`.
    public static let bansHash = "chatd:bans"
    /// Hash of one node's clients: address → `ClientRecord` (read when the node is met).
    public static func clientsHash(_ node: String) -> String { "chatd:clients:" + node }
}

/// One client as its node stores it in Redis (`ClusterKeys.clientsHash`), so a node that
/// joins the cluster, or comes back to it, learns who is where: `name TAB rooms` with the
/// rooms space-separated (neither a name nor a room holds a space or a tab).
public struct ClientRecord: Equatable, Sendable {
    public var name: String
    public var rooms: [String]

    public init(name: String, rooms: [String]) {
        self.name = name
        self.rooms = rooms
    }

    public var encoded: String { name + "\t" + rooms.joined(separator: " ") }

    public init?(decoding text: String) {
        let parts = text.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, NameRules.isValidName(parts[0]) || parts[0].contains(":") else { return nil }
        let rooms = parts[1].split(separator: " ")
        guard rooms.allSatisfy({ NameRules.isValidRoom($0) }) else { return nil }
        name = String(parts[0])
        self.rooms = rooms.map(String.init)
    }
}

extension Account {
    /// The account as its value in `ClusterKeys.accountsHash`: `name TAB argon2id-string`
    /// (neither holds a tab).
    public var clusterValue: String { name + "\t" + hash }

    /// An account from its value in `ClusterKeys.accountsHash`; nil when malformed.
    public init?(clusterValue: String) {
        let parts = clusterValue.split(separator: "\t", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        self.init(name: String(parts[0]), hash: String(parts[1]))
    }
}
