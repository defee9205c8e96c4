/// One protocol's way of turning what the hub says (`Outgoing`) into bytes. Rendering happens
/// once per message per style present among the recipients (`RenderOnce`), and the bytes are
/// shared by every recipient of that style, so a renderer must not depend on who receives.
protocol WireRenderer: Sendable {
    /// The protocol's name in metrics labels (`chatd_clients_connected{protocol=...}`).
    var protocolName: String { get }
    /// Appends `message`'s bytes, line end (or frame) included, to `out`.
    func render(_ message: Outgoing, into out: inout [UInt8])
    /// Appends a replayed history line, from the style-independent body
    /// (`WireStyle.historyBody`) the history book rendered once, at the first replay that needed it.
    func renderHistory(room: String, body: [UInt8], into out: inout [UInt8])
    /// Appends a whole replay (a joiner's, or `/history`'s): by default each line in turn; a
    /// protocol that frames a replay (IRC's `chathistory` batch) wraps them.
    func renderHistoryReplay(room: String, bodies: ArraySlice<[UInt8]>, into out: inout [UInt8])
    /// The same replay of `lineCount` bodies, handed over oldest first by `forEachBody` (walked
    /// in the history ring, with no array of them built); by default gathered and rendered by
    /// the method above.
    func renderHistoryReplay(room: String, lineCount: Int, forEachBody: (([UInt8]) -> Void) -> Void, into out: inout [UInt8])
    /// For a protocol whose replay is nothing but each body after this prefix and before a
    /// newline (chatd's own): the prefix, so the history book can frame the lines itself and
    /// keep them framed for the next joiner (`HistoryBook.frameRecent`). Nil by default.
    func historyReplayLinePrefix(room: String) -> [UInt8]?
}

extension WireRenderer {
    func renderHistoryReplay(room: String, bodies: ArraySlice<[UInt8]>, into out: inout [UInt8]) {
        for body in bodies { renderHistory(room: room, body: body, into: &out) }
    }

    func historyReplayLinePrefix(room: String) -> [UInt8]? { nil }

    func renderHistoryReplay(room: String, lineCount: Int, forEachBody: (([UInt8]) -> Void) -> Void, into out: inout [UInt8]) {
        var bodies: [[UInt8]] = []
        bodies.reserveCapacity(lineCount)
        forEachBody { bodies.append($0) }
        renderHistoryReplay(room: room, bodies: bodies[...], into: &out)
    }
}

/// Every wire style's renderer, at the position its `WireStyle.index` names: the one list a new
/// protocol adds its renderer to. `RenderOnce` keeps one inline slot per entry (a unit test holds
/// the table to that size and each renderer to its position).
enum WireRenderers {
    static let all: [any WireRenderer] = [
        NativeRenderer(), SeedRenderer(), WebSocketRenderer(),
        IRCWireRenderer(variant: .plain), IRCWireRenderer(variant: .timed), IRCWireRenderer(variant: .timedBatched),
    ]
}
