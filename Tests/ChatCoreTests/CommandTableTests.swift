import Testing
@testable import ChatCore

/// The command table is the one place a command is defined: an entry added to it (here, in
/// the test target) is parsed, listed by `/help` and guarded by its permission with no other
/// edit anywhere.
@Suite struct CommandTableTests {
    private static let wave = CommandEntry("wave", [.word("NAME")], help: "wave at someone") { hub, request in
        hub.reply(request.client, "wave", request.arguments.word(0))
    }
    private static let shout = CommandEntry("shout", [.text("text")], permission: .serverOperator, help: "operator: shout", group: .more) { hub, request in
        hub.reply(request.client, "shout", request.arguments.word(0))
    }

    private static func lines(_ hub: Hub, _ id: ClientID) -> [String] {
        let bytes = hub.outbox.bytes(for: id)
        hub.outbox.reset()
        return bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func anEntryAddedToTheTableIsHelpedParsedAndGuarded() {
        let hub = Hub(limits: ChatLimits(), defaultRoom: "#lobby", commands: CommandTable.standard.adding([Self.wave, Self.shout]))
        hub.serverPassword = { $0 == Array("sesame-sesame".utf8) }
        let id = ClientID(0)
        hub.connect(id, address: "127.0.0.1:40000")
        _ = Self.lines(hub, id)

        hub.receive(Array("/help".utf8), from: id)
        let help = Self.lines(hub, id)
        #expect(help.contains { $0.hasPrefix("OK-help /wave NAME") && $0.hasSuffix("wave at someone") }, "\(help)")
        #expect(help.contains { $0.hasPrefix("OK-help /shout text") })

        hub.receive(Array("/wave bob".utf8), from: id)
        #expect(Self.lines(hub, id) == ["ERROR PASSWORD_REQUIRED: this server needs a password: send /pass PASSWORD first"])
        hub.receive(Array("/pass sesame-sesame".utf8), from: id)
        #expect(Self.lines(hub, id).first == "OK pass accepted")

        hub.receive(Array("/WAVE bob".utf8), from: id)
        #expect(Self.lines(hub, id) == ["OK wave bob"])
        hub.receive(Array("/wave".utf8), from: id)
        #expect(Self.lines(hub, id) == ["ERROR USAGE: usage: /wave NAME"])
        hub.receive(Array("/shout hello all".utf8), from: id)
        #expect(Self.lines(hub, id) == ["ERROR NOT_OPERATOR: only server operators may /shout"])

        // The same entry runs for an operator: the guard refuses by permission, not everyone.
        hub.operatorAccounts = ["boss": Account(name: "boss", hash: "h")]
        let boss = ClientID(1)
        hub.connect(boss, address: "127.0.0.1:40001")
        hub.receive(Array("/pass sesame-sesame".utf8), from: boss)
        hub.receive(Array("/login boss password1".utf8), from: boss)
        while let job = hub.nextPasswordJob() { hub.authFinished(AuthResult(job: job, outcome: .verified)) }
        #expect(hub.isOperator(boss))
        _ = Self.lines(hub, boss)
        hub.receive(Array("/shout hello all".utf8), from: boss)
        #expect(Self.lines(hub, boss) == ["OK shout hello all"])
    }

    @Test func aRoomOwnerEntryGetsItsRoomCheckedAndResolved() {
        let paint = CommandEntry("paint", [.hashRoom, .word("COLOUR")], permission: .roomOwner, help: "owner: paint the room", group: .more) { hub, request in
            hub.reply(request.client, "paint", "\(request.room.flatMap { hub.rooms[$0]?.name } ?? "?") \(request.arguments.word(1))")
        }
        let hub = Hub(limits: ChatLimits(), defaultRoom: "#lobby", commands: CommandTable.standard.adding([paint]))
        let owner = ClientID(0), guest = ClientID(1)
        hub.connect(owner, address: "127.0.0.1:40000")
        hub.connect(guest, address: "127.0.0.1:40001")
        hub.receive(Array("/join #Art".utf8), from: owner)
        hub.receive(Array("/join #art".utf8), from: guest)
        _ = Self.lines(hub, owner)
        _ = Self.lines(hub, guest)

        hub.receive(Array("/paint #art red".utf8), from: guest)
        #expect(Self.lines(hub, guest) == ["ERROR NOT_OWNER: only the owner of #Art may do that"])
        hub.receive(Array("/paint #nowhere red".utf8), from: guest)
        #expect(Self.lines(hub, guest) == ["ERROR NO_SUCH_ROOM: there is no room #nowhere"])
        hub.receive(Array("/paint #ART red".utf8), from: owner)
        #expect(Self.lines(hub, owner) == ["OK paint #Art red"])
    }

    @Test func theKickUsageIsMadeFromItsShape() {
        let table = CommandTable.standard
        let usage = table.entries.first { $0.id == "kick" }?.usage
        #expect(usage == "/kick #room NAME [reason]")
        #expect(CommandParser.parse(Array("/kick #dev".utf8)).command == .invalid(.usage, "usage: /kick #room NAME [reason]"))
    }
}
