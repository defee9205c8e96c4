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
    }

    @Test func everyStandardCommandHasOneUsageMadeFromItsShape() {
        let table = CommandTable.standard
        #expect(table.entries.map(\.id).count == Set(table.entries.map(\.id)).count, "ids are unique")
        let usage = table.entries.first { $0.id == "kick" }?.usage
        #expect(usage == "/kick #room NAME [reason]")
        #expect(CommandParser.parse(Array("/kick #dev".utf8)).command == .invalid(.usage, "usage: /kick #room NAME [reason]"))
    }
}
