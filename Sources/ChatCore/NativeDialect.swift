/// chatd's own line protocol (and the tcp-chat seed protocol, which a connection chooses with
/// its first line): a welcome line at once, the default room, and every line parsed by
/// `CommandParser` against the command table.
struct NativeDialect: Dialect {
    var style: WireStyle { .native }

    func claim(_ prefix: UnsafeRawBufferPointer) -> ProtocolClaim { .notMine }

    func connected(_ id: ClientID, in hub: Hub) {
        let open = hub.clients.isAuthorised(id)
        // Before the server password a client is in no room: the welcome must not say otherwise.
        let room = open ? hub.defaultRoom : "no room until /pass"
        hub.send(.notice(.welcome(name: hub.clients.address(of: id) ?? "", room: room, maxLineBytes: hub.limits.maxLineBytes)), to: id)
        if hub.refuseIfAddressBanned(id) { return }
        if !open {
            hub.send(.notice(.server("this server needs a password: send /pass PASSWORD")), to: id)
            return
        }
        hub.enterLobby(id)
    }

    func receive(_ line: [UInt8], from id: ClientID, isFirstLine: Bool, admitted: Bool, in hub: Hub) {
        // Detection sends HTTP clients to HTTPDialect; this catches one that waited past
        // `--protocol-wait` (or a server with no wait) before sending its request.
        if isFirstLine && HTTPRequest.isRequestLine(line) { return HTTPRequest.answer(id, in: hub) }
        // Seed words are commands only on a connection that chose the seed protocol with its
        // first line; on a native connection `LEAVE: brb` is chat.
        let context: CommandParser.Context = isFirstLine ? .firstLine : (hub.clients.style(of: id) == .seed ? .seed : .native)
        let parsed = CommandParser.parse(line, context: context, table: hub.commands)
        if isFirstLine && parsed.isSeedSyntax { hub.changeStyle(id, to: .seed) }
        hub.commands.execute(parsed.command, in: hub, from: id, admitted: admitted)
    }
}

extension DialectID {
    /// chatd's own protocol and the seed protocol (NativeDialect).
    public static let native = DialectID(index: 0)
}
