import Testing
@testable import ChatCore

/// The cluster's pure parts: the message encoding (another node's bytes are untrusted), the
/// Redis URL, the view of remote clients, and a hub as a node fed by a second hub's commands.
@Suite struct ClusterMessageTests {
    static let samples: [ClusterMessage] = [
        .chat(node: "a", room: "#dev", from: "alice", text: ArraySlice("hello\tworld".utf8)),
        .action(node: "a", room: "#dev", from: "alice", text: ArraySlice("waves".utf8)),
        .topic(node: "host:7878", room: "#dev", by: "bob", text: "ship it\tfriday"),
        .roomNotice(node: "a", room: "#dev", text: "bob was removed from #dev by alice (spam)"),
        .joined(node: "a", address: "127.0.0.1:5555", name: "alice", room: "#dev"),
        .left(node: "a", address: "127.0.0.1:5555", name: "alice", room: "#dev", reason: ""),
        .left(node: "a", address: "[::1]:5555", name: "alice", room: "#dev", reason: "gone fishing"),
        .renamed(node: "a", address: "127.0.0.1:5555", old: "127.0.0.1:5555", new: "alice", firstName: true),
        .quit(node: "a", address: "127.0.0.1:5555", name: "alice", reason: "bye"),
        .hello(node: "b"),
        .privateMessage(node: "a", from: "alice", to: "bob", text: ArraySlice("psst".utf8)),
        .account(node: "a", key: "alice", name: "Alice", hash: "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"),
        .rule(node: "a", room: "#dev", by: "alice", field: "key", value: "sesame"),
        .rule(node: "a", room: "#dev", by: "alice", field: "ban:r:127.0.0.0/8", value: ""),
        .rule(node: "*", room: "#dev", by: "*", field: "*", value: ""),
        .kick(node: "a", room: "#dev", name: "bob", by: "alice", reason: "spam\tand more"),
        .kicked(node: "b", address: "127.0.0.1:5555", name: "bob", room: "#dev", by: "alice", reason: "banned"),
        .serverBan(node: "a", ServerBan(target: "mallory", isAddress: false, until: nil, setBy: "boss")),
        .serverBan(node: "a", ServerBan(target: "127.0.0.0/8", isAddress: true, until: 1_800_000_000.5, setBy: "boss")),
        .serverUnban(node: "a", target: "::1"),
    ]

    @Test func everyMessageSurvivesTheRoundTrip() {
        for message in Self.samples {
            let bytes = message.encoded()
            #expect(ClusterMessage.decode(bytes[...]) == message, "\(message)")
        }
    }

    @Test func malformedPayloadsAreRefusedNotTrapped() {
        let bad: [[UInt8]] = [
            [], Array("c".utf8), Array("c\t".utf8), Array("x\ta\tb".utf8), Array("c\ta\t#dev".utf8),
            Array("c\t\t#dev\talice\thi".utf8),  // empty node
            Array("c\ta\t#dev\talice\thi\nforged line".utf8),  // a line break from a peer
            [0x63, 0x09, 0x61, 0x09, 0xFF, 0x09, 0x61, 0x09, 0x62],  // invalid UTF-8
            Array("r\ta\t1.2.3.4:5\told\tnew\tmaybe".utf8),
            Array("h\t".utf8),
            Array("R\ta\tnot-a-room\talice\tkey\tk".utf8),
            Array("B\ta\tmallory\tname\tinf\tboss".utf8),  // an end that is no finite number
            Array("B\ta\tmallory\tmaybe\t-\tboss".utf8),
            Array("U\ta\t".utf8),
        ]
        for payload in bad { #expect(ClusterMessage.decode(payload[...]) == nil, "\(payload)") }
    }

    @Test func aSliceInTheMiddleOfABufferDecodes() {
        let bytes = Array("xx".utf8) + ClusterMessage.hello(node: "n1").encoded() + Array("yy".utf8)
        #expect(ClusterMessage.decode(bytes[2..<(bytes.count - 2)]) == .hello(node: "n1"))
    }

    @Test func accountsRoundTripTheirHashValueAndRefuseJunk() {
        let account = Account(name: "Alice", hash: "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA")
        #expect(Account(clusterValue: account.clusterValue) == account)
        #expect(Account(clusterValue: "no-tab-here") == nil)
    }

    @Test func clientRecordsRoundTripAndRefuseJunk() {
        let record = ClientRecord(name: "alice", rooms: ["#lobby", "#dev"])
        #expect(ClientRecord(decoding: record.encoded) == record)
        #expect(ClientRecord(decoding: "127.0.0.1:5\t") == ClientRecord(name: "127.0.0.1:5", rooms: []))
        #expect(ClientRecord(decoding: "alice") == nil)
        #expect(ClientRecord(decoding: "alice\tnot-a-room") == nil)
    }
}

/// A room's rules as the cluster keeps them: fields and values, changes between two states.
@Suite struct RoomRulesTests {
    @Test func fieldsRoundTripAndChangesAreFieldByField() {
        var rules = RoomRules(owner: .client(node: "a", address: "127.0.0.1:5555"), key: "sesame", bans: ["n:mallory", "r:10.0.0.0/8"])
        #expect(RoomRules(fields: rules.fields) == rules)
        var next = rules
        next.owner = .account("alice")
        next.key = nil
        next.bans.remove("n:mallory")
        next.bans.insert("n:eve")
        let changes = rules.changes(to: next)
        #expect(changes.map(\.field) == ["owner", "key", "ban:n:eve", "ban:n:mallory"])
        for (field, value) in changes { rules.apply(field: field, value: value) }
        #expect(rules == next)
    }

    @Test func junkFieldsAreSkipped() {
        let rules = RoomRules(fields: [("owner", "x:what"), ("ban:n:bad name", "1"), ("ban:r:999.1.1.1", "1"), ("colour", "red"), ("key", "k")])
        #expect(rules == RoomRules(key: "k"))
        #expect(RoomRules.Owner("c:a b c") == nil && RoomRules.Owner("c:a 127.0.0.1:1") == .client(node: "a", address: "127.0.0.1:1"))
    }
}

@Suite struct ClusterHistoryMergeTests {
    static func line(_ sender: String, _ text: String, at time: Double = 0) -> HistoryEntry {
        HistoryEntry(room: "#r", at: time, kind: .chat, sender: sender, text: Array(text.utf8))
    }

    @Test func theStreamComesFirstAndLinesInBothAreKeptOnce() {
        let stream = [Self.line("a", "1"), Self.line("a", "2"), Self.line("a", "3")]
        let live = [Self.line("a", "3", at: 9), Self.line("b", "4")]
        #expect(Hub.merged(stream: stream, live: live).map { String(decoding: $0.text, as: UTF8.self) } == ["1", "2", "3", "4"])
        #expect(Hub.merged(stream: stream, live: []).count == 3)
        #expect(Hub.merged(stream: [], live: live).count == 2)
        let repeated = [Self.line("a", "x"), Self.line("a", "x")]
        #expect(Hub.merged(stream: repeated, live: [Self.line("a", "x")]).count == 2, "each stream line matches once, never more than what arrived")
    }

    /// Two nodes' lines reach the stream in the order their appends reached Redis, which need
    /// not be the order their publishes arrived here: kept once whatever the order.
    @Test func linesInBothInAnotherOrderAreKeptOnce() {
        let stream = [Self.line("a", "1"), Self.line("b", "2"), Self.line("a", "3")]
        let live = [Self.line("a", "3"), Self.line("b", "2"), Self.line("c", "4")]
        #expect(Hub.merged(stream: stream, live: live).map { String(decoding: $0.text, as: UTF8.self) } == ["1", "2", "3", "4"])
    }
}

@Suite struct HistoryStreamTests {
    @Test func linesSurviveTheirBatchEntryAndJunkLinesAreLeftOut() {
        let entries = [
            HistoryEntry(room: "#Dev", at: 1_700_000_000.25, kind: .action, sender: "alice", text: Array("waves\there".utf8)),
            HistoryEntry(room: "#Dev", at: 1_700_000_001, kind: .chat, sender: "127.0.0.1:5555", text: []),
            HistoryEntry(room: "#Dev", at: 1_700_000_002.5, kind: .topic, sender: "bob", text: Array("ship it".utf8)),
        ]
        let fields = HistoryEntry.streamFields(entries)
        #expect(HistoryEntry.lines(room: "#dev", streamFields: fields) == entries)
        var forged = fields
        forged[5] = Array("1000\t0\talice\tfine\n1000\t9\talice\tbad kind\n1000\t0\tno one\tbad sender\nnan\t0\tbob\tbad time\n2000\t0\tbob\tline\rforged\n3000\t0\tbob".utf8)
        #expect(HistoryEntry.lines(room: "#dev", streamFields: forged).map(\.text) == [Array("fine".utf8)])
        #expect(HistoryEntry.lines(room: "#dev", streamFields: [Array("k".utf8)]).isEmpty)
        #expect(HistoryEntry.streamFields([HistoryEntry]()).isEmpty)
    }

    @Test func aLineOfTheFirstFormatIsStillRead() {
        let old: [[UInt8]] = ["r", "#Dev", "k", "1", "s", "alice", "t", "1700000000.25", "x", "waves"].map { Array($0.utf8) }
        #expect(HistoryEntry.lines(room: "#dev", streamFields: old)
                == [HistoryEntry(room: "#Dev", at: 1_700_000_000.25, kind: .action, sender: "alice", text: Array("waves".utf8))])
        var forged = old
        forged[9] = Array("line\r\nforged".utf8)
        #expect(HistoryEntry.lines(room: "#dev", streamFields: forged).isEmpty)
    }
}

@Suite struct RedisURLTests {
    @Test func theFormsOfTheURL() {
        #expect(RedisURL("redis://127.0.0.1:6380") == RedisURL(host: "127.0.0.1", port: 6380, password: nil, database: 0))
        #expect(RedisURL("redis://:s3cret@redis.example:6379/2") == RedisURL(host: "redis.example", port: 6379, password: "s3cret", database: 2))
        #expect(RedisURL("redis://user:pw@host")?.password == "pw")
        #expect(RedisURL("redis://[::1]:7000")?.host == "::1")
        #expect(RedisURL("redis://host")?.port == 6379)
        for bad in ["http://host:1", "redis://", "redis://host:0", "redis://host:99999", "redis://host:1/x", "redis://@host", "redis://[::1"] {
            #expect(RedisURL(bad) == nil, "\(bad)")
        }
        #expect(RedisURL("redis://:pw@h:1")?.shown == "redis://h:1/0", "the password is never shown")
    }

    @Test func nodeNames() {
        #expect(RedisURL.isValidNodeName("web-1.example:7878"))
        #expect(!RedisURL.isValidNodeName(""))
        #expect(!RedisURL.isValidNodeName("a b"))
        #expect(!RedisURL.isValidNodeName("a\tb"))
        #expect(!RedisURL.isValidNodeName(String(repeating: "x", count: 65)))
    }
}

extension RedisURL {
    init(host: String, port: Int, password: String?, database: Int) {
        self = RedisURL("redis://x")!
        self.host = host
        self.port = port
        self.password = password
        self.database = database
    }
}

/// Two hubs wired by hand: every publish of one is handed to the other, as Redis would.
@Suite struct HubAsClusterNodeTests {
    final class Node {
        let hub = Hub()
        let name: String
        init(_ name: String) {
            self.name = name
            hub.joinCluster(node: name)
        }
        /// What `slot` was sent since the last `clear` (the outbox is kept for other slots).
        func lines(_ slot: Int) -> [String] {
            hub.outbox.bytes(for: ClientID(slot)).split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        }
        func clear() { hub.outbox.reset() }
    }

    /// Delivers `from`'s publishes to `to`; returns the commands that were not publishes.
    @discardableResult
    static func relay(_ from: Node, to: Node) -> [ClusterCommand] {
        var rest: [ClusterCommand] = []
        for command in from.hub.takeClusterCommands() {
            switch command {
            case .publish(_, let payload): to.hub.clusterReceived(payload[...])
            case .setRules(_, let changes, _): for change in changes { to.hub.clusterReceived(change.announce[...]) }  // Redis publishes a rule's announcement
            default: rest.append(command)
            }
        }
        return rest
    }

    @Test func aLineCrossesOnePublishAndIsRenderedForLocalMembers() {
        let a = Node("a"), b = Node("b")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        b.hub.connect(ClientID(0), address: "10.0.0.2:1", at: 0)
        b.hub.connect(ClientID(1), address: "10.0.0.2:2", at: 0)
        Self.relay(a, to: b)
        Self.relay(b, to: a)
        a.clear()
        b.clear()
        a.hub.receive(Array("hello".utf8), from: ClientID(0))
        let commands = a.hub.takeClusterCommands().filter { if case .publish = $0 { true } else { false } }
        #expect(commands.count == 1, "one publish per line, whatever the members: \(commands.map { if case .publish(let c, let p) = $0 { c + String(decoding: p, as: UTF8.self) } else { "\($0)" } })")
        for case .publish(let channel, let payload) in commands {
            #expect(channel == "chatd:room:#lobby")
            b.hub.clusterReceived(payload[...])
        }
        #expect(b.lines(0) == ["#lobby <10.0.0.1:1> hello"])
        #expect(b.lines(1) == ["#lobby <10.0.0.1:1> hello"])
    }

    @Test func aBatchOfLinesIsAppliedInOrderAndMalformedRecordsAlone() {
        let a = Node("a"), b = Node("b")
        b.hub.connect(ClientID(0), address: "10.0.0.2:1", at: 0)
        Self.relay(b, to: a)
        b.clear()
        var batch = ClusterBatch()
        for (index, text) in ["one", "two", "three"].enumerated() {
            let record = ClusterMessage.chat(node: "a", room: "#lobby", from: "alice", text: ArraySlice(text.utf8)).encoded()
            #expect(batch.accepts(record, on: "chatd:room:#lobby"))
            batch.append(record, on: "chatd:room:#lobby")
            if index == 1 { batch.append(Array("c\tjunk".utf8), on: "chatd:room:#lobby") }
        }
        #expect(!batch.accepts(Array("x".utf8), on: "chatd:events"), "another channel closes the batch")
        #expect(!batch.accepts([UInt8](repeating: 0x61, count: ClusterBatch.maxBytes), on: "chatd:room:#lobby"), "so does the size bound")
        b.hub.clusterReceived(batch.bytes[...])
        #expect(b.lines(0) == ["#lobby <alice> one", "#lobby <alice> two", "#lobby <alice> three"])
        batch.clear()
        #expect(batch.records == 0 && batch.bytes.isEmpty && batch.channel == nil)
    }

    @Test func aKeyAndABanSetOnOneNodeHoldOnTheOtherAndAKickCrosses() {
        let a = Node("a"), b = Node("b")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        b.hub.connect(ClientID(0), address: "10.0.0.2:1", at: 0)
        b.hub.connect(ClientID(1), address: "10.0.0.3:1", at: 0)
        a.hub.receive(Array("/nick alice".utf8), from: ClientID(0))
        b.hub.receive(Array("/nick bob".utf8), from: ClientID(0))
        b.hub.receive(Array("/nick eve".utf8), from: ClientID(1))
        a.hub.receive(Array("/join #vault".utf8), from: ClientID(0))
        a.hub.receive(Array("/key #vault sesame".utf8), from: ClientID(0))
        Self.relay(a, to: b)
        Self.relay(b, to: a)
        b.clear()
        b.hub.receive(Array("/join #vault".utf8), from: ClientID(0))
        #expect(b.lines(0).last?.hasPrefix("ERROR BAD_KEY") == true, "\(b.lines(0))")
        b.hub.receive(Array("/join #vault sesame".utf8), from: ClientID(0))
        #expect(b.lines(0).last?.hasPrefix("OK join #vault 2 members") == true, "\(b.lines(0))")
        b.hub.receive(Array("/key #vault other".utf8), from: ClientID(0))
        #expect(b.lines(0).last?.hasPrefix("ERROR NOT_OWNER") == true, "the owner is alice, on a: \(b.lines(0))")
        Self.relay(b, to: a)
        a.hub.receive(Array("/ban #vault eve".utf8), from: ClientID(0))
        Self.relay(a, to: b)
        b.clear()
        b.hub.receive(Array("/join #vault sesame".utf8), from: ClientID(1))
        #expect(b.lines(1).last?.hasPrefix("ERROR BANNED_FROM_ROOM") == true, "\(b.lines(1))")
        a.clear()
        a.hub.receive(Array("/kick #vault bob rude".utf8), from: ClientID(0))
        #expect(a.lines(0) == ["OK kick bob removed from #vault"])
        Self.relay(a, to: b)
        #expect(b.lines(0).contains("*** you were removed from #vault by alice (rude)"), "\(b.lines(0))")
        Self.relay(b, to: a)
        #expect(a.lines(0).last == "*** bob was removed from #vault by alice (rude)", "\(a.lines(0))")
    }

    @Test func aGuestOwnersOwnershipEndsOnEveryNodeWhenItQuits() {
        let a = Node("a"), b = Node("b")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        b.hub.connect(ClientID(0), address: "10.0.0.2:1", at: 0)
        a.hub.receive(Array("/join #den".utf8), from: ClientID(0))
        Self.relay(a, to: b)
        b.hub.receive(Array("/join #den".utf8), from: ClientID(0))
        Self.relay(b, to: a)
        b.clear()
        b.hub.receive(Array("/topic #den mine".utf8), from: ClientID(0))
        #expect(b.lines(0).last?.hasPrefix("ERROR NOT_OWNER") == true, "\(b.lines(0))")
        a.hub.disconnect(ClientID(0), reason: "bye")
        let rest = Self.relay(a, to: b)
        #expect(rest.contains { if case .roomClosed(let room, _) = $0 { room == "#den" } else { false } })
        b.clear()
        b.hub.receive(Array("/topic #den mine".utf8), from: ClientID(0))
        #expect(b.lines(0).last == "OK topic #den set", "an ownerless room: \(b.lines(0))")
    }

    @Test func aLostNodesGuestOwnersOwnNothingAnyMore() {
        let a = Node("a"), b = Node("b")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        b.hub.connect(ClientID(0), address: "10.0.0.2:1", at: 0)
        a.hub.receive(Array("/join #den".utf8), from: ClientID(0))
        Self.relay(a, to: b)
        b.hub.receive(Array("/join #den".utf8), from: ClientID(0))
        Self.relay(b, to: a)
        b.hub.clusterNodesAlive(["a", "b"])
        b.clear()
        b.hub.receive(Array("/topic #den mine".utf8), from: ClientID(0))
        #expect(b.lines(0).last?.hasPrefix("ERROR NOT_OWNER") == true)
        b.hub.clusterNodesAlive(["b"])
        b.clear()
        b.hub.receive(Array("/topic #den mine".utf8), from: ClientID(0))
        #expect(b.lines(0).last == "OK topic #den set", "\(b.lines(0))")
    }

    @Test func aServerBanFromAnotherNodeDisconnectsTheClientsItCovers() {
        let b = Node("b")
        b.hub.connect(ClientID(0), address: "10.0.0.2:1", at: 0)
        b.hub.connect(ClientID(1), address: "10.0.0.3:1", at: 0)
        b.hub.receive(Array("/nick mallory".utf8), from: ClientID(0))
        b.clear()
        b.hub.clusterReceived(ClusterMessage.serverBan(node: "a", ServerBan(target: "mallory", isAddress: false, until: nil, setBy: "boss")).encoded()[...])
        #expect(b.lines(0).first?.hasPrefix("ERROR BANNED") == true, "\(b.lines(0))")
        b.hub.clusterReceived(ClusterMessage.serverBan(node: "a", ServerBan(target: "10.0.0.3", isAddress: true, until: nil, setBy: "boss")).encoded()[...])
        #expect(b.lines(1).contains { $0.hasPrefix("ERROR BANNED") }, "\(b.lines(1))")
        #expect(b.hub.serverBans.count == 2)
        b.hub.clusterReceived(ClusterMessage.serverUnban(node: "a", target: "mallory").encoded()[...])
        #expect(b.hub.serverBans.keys.sorted() == ["10.0.0.3"])
    }

    /// A key set in the iteration that created the room goes to Redis with the creation, in
    /// one only-if-new write: if another node created the room first, neither is written.
    @Test func aKeySetWhileCreatingTheRoomIsWrittenWithTheCreation() {
        let a = Node("a")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        _ = a.hub.takeClusterCommands()
        a.hub.receive(Array("/join #x".utf8), from: ClientID(0))
        a.hub.receive(Array("/key #x sesame".utf8), from: ClientID(0))
        let writes = a.hub.takeClusterCommands().compactMap { command -> ([RuleWrite], Bool)? in
            if case .setRules("#x", let changes, let onlyIfNew) = command { (changes, onlyIfNew) } else { nil }
        }
        #expect(writes.count == 1 && writes.first?.1 == true, "\(writes)")
        #expect(writes.first?.0.map(\.field).contains("owner") == true && writes.first?.0.contains { $0.field == "key" && $0.value == "sesame" } == true)
    }

    @Test func twoNodesCreatingOneRoomAtOnceEndWithTheFirstOwner() {
        let a = Node("a"), b = Node("b")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        b.hub.connect(ClientID(0), address: "10.0.0.2:1", at: 0)
        a.hub.receive(Array("/join #x".utf8), from: ClientID(0))
        b.hub.receive(Array("/join #x".utf8), from: ClientID(0))
        // Redis runs a's creation first: b's only-if-new write is refused and b reads a's rules.
        let first = Self.relay(a, to: b)
        #expect(first.contains { if case .roomOpened("#x") = $0 { true } else { false } })
        var refused = false
        for command in b.hub.takeClusterCommands() {
            if case .setRules(let room, let changes, true) = command, changes.contains(where: { $0.field == "owner" }) {
                refused = true
                b.hub.clusterRulesRead(room: room, fields: [("owner", "c:a 10.0.0.1:1")])
            }
        }
        #expect(refused)
        b.clear()
        b.hub.clusterRulesRead(room: "#x", fields: [("owner", "c:a 10.0.0.1:1"), ("key", "k")])
        #expect(b.lines(0).last == "*** you were removed from #x by chatd (it has a key: /join #x KEY)", "joined unchecked, checked now: \(b.lines(0))")
        b.hub.clusterRulesRead(room: "#x", fields: [("owner", "c:a 10.0.0.1:1")])
        b.hub.receive(Array("/join #x".utf8), from: ClientID(0))
        b.clear()
        b.hub.receive(Array("/key #x k".utf8), from: ClientID(0))
        #expect(b.lines(0).last?.hasPrefix("ERROR NOT_OWNER") == true, "\(b.lines(0))")
        a.clear()
        a.hub.receive(Array("/key #x k".utf8), from: ClientID(0))
        #expect(a.lines(0).last == "OK key #x key set")
    }

    @Test func ownMessagesComingBackAreIgnored() {
        let a = Node("a")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        a.clear()
        a.hub.clusterReceived(ClusterMessage.chat(node: "a", room: "#lobby", from: "x", text: ArraySlice("echo".utf8)).encoded()[...])
        #expect(a.lines(0).isEmpty)
    }

    @Test func aLostNodesMembersQuitOnceEvenInSeveralSharedRooms() {
        let a = Node("a"), b = Node("b")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        b.hub.connect(ClientID(0), address: "10.0.0.2:1", at: 0)
        a.hub.receive(Array("/join #dev".utf8), from: ClientID(0))
        b.hub.receive(Array("/join #dev".utf8), from: ClientID(0))
        Self.relay(a, to: b)
        Self.relay(b, to: a)
        a.clear()
        a.hub.clusterNodesAlive(["a", "b"])
        #expect(a.lines(0).isEmpty)
        a.clear()
        a.hub.clusterNodesAlive(["a"])
        #expect(a.lines(0) == ["*** 10.0.0.2:1 quit (node lost)"])
        a.clear()
        a.hub.receive(Array("/users".utf8), from: ClientID(0))
        #expect(a.lines(0).last == "OK users 1 online")
    }

    @Test func aRefusedClaimRenamesTheLoserToItsAddress() {
        let a = Node("a")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        a.hub.receive(Array("/nick alice".utf8), from: ClientID(0))
        #expect(a.hub.takeClusterCommands().contains(.claim(name: "alice")))
        a.clear()
        a.hub.clusterClaimRefused("alice")
        #expect(a.lines(0) == ["ERROR NICK_IN_USE: alice is taken on another node; you are 10.0.0.1:1 again"])
        #expect(a.hub.name(of: ClientID(0)) == "10.0.0.1:1")
    }

    @Test func aPrivateMessageGoesToTheNodeOfItsRecipient() {
        let a = Node("a"), b = Node("b")
        a.hub.connect(ClientID(0), address: "10.0.0.1:1", at: 0)
        b.hub.connect(ClientID(0), address: "10.0.0.2:1", at: 0)
        b.hub.receive(Array("/nick bob".utf8), from: ClientID(0))
        Self.relay(b, to: a)
        _ = a.hub.takeClusterCommands()
        a.clear()
        a.hub.receive(Array("/msg bob hi".utf8), from: ClientID(0))
        #expect(a.lines(0) == ["OK msg bob"])
        let publishes = a.hub.takeClusterCommands().compactMap { command -> String? in
            if case .publish(let channel, _) = command { return channel } else { return nil }
        }
        #expect(publishes == ["chatd:node:b"])
    }
}

@Suite struct ClusterViewTests {
    @Test func staleRecordsDoNotUndoNewerEvents() {
        var view = ClusterView(node: "a")
        view.joined(node: "b", address: "1.1.1.1:1", name: "bob", room: "#lobby")
        view.joined(node: "b", address: "1.1.1.1:1", name: "bob", room: "#ops")
        view.merge(node: "b", records: [("1.1.1.1:1", ClientRecord(name: "bob", rooms: ["#lobby"]))])
        #expect(view.client(named: "bob")?.rooms == ["#lobby", "#ops"])
        #expect(view.members(ofRoom: "#ops").map(\.name) == ["bob"])
    }

    @Test func recordsAddClientsNeverHeardOfAndAHelloClearsGhosts() {
        var view = ClusterView(node: "a")
        view.joined(node: "b", address: "1.1.1.1:1", name: "ghost", room: "#lobby")
        view.hello(from: "b")
        view.merge(node: "b", records: [("1.1.1.1:2", ClientRecord(name: "carol", rooms: ["#lobby", "#dev"]))])
        #expect(view.client(named: "ghost") == nil)
        #expect(view.client(named: "carol")?.rooms == ["#lobby", "#dev"])
        #expect(view.count == 1)
    }

    @Test func aLostNodeTakesItsClientsAndNamesWithIt() {
        var view = ClusterView(node: "a")
        view.joined(node: "b", address: "1.1.1.1:1", name: "bob", room: "#lobby")
        view.joined(node: "c", address: "1.1.1.1:9", name: "cat", room: "#lobby")
        #expect(view.dropNode("b").map(\.name) == ["bob"])
        #expect(view.client(named: "bob") == nil && view.client(named: "cat") != nil)
        #expect(view.members(ofRoom: "#lobby").map(\.name) == ["cat"])
    }
}
