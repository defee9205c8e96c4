/// Plain running totals the hub keeps for the metrics endpoint. Each is one integer add where
/// the event happens (no lock, no call into a metrics library, nothing per delivery): the I/O
/// layer reads them only when Prometheus scrapes.
public struct HubCounters: Sendable {
    /// Complete lines handed to the hub (commands and chat; rejected lines are not lines).
    public var linesReceived: UInt64 = 0
    /// Lines the framer dropped: longer than `maxLineBytes`, or not UTF-8.
    public var linesTooLong: UInt64 = 0
    public var linesInvalidUTF8: UInt64 = 0
    /// Clients that left the hub, by why.
    public var disconnects = DisconnectCounts()
    /// Connected clients by wire style (`WireStyle.index`).
    public var clientsByStyle = [Int](repeating: 0, count: WireRenderers.all.count)

    public init() {}
}

extension Hub {
    /// Why `id` left the hub (set once, when it left), forgotten once taken: the I/O layer
    /// takes it when it closes the socket, so a client dismissed by the hub (`/quit`, junk,
    /// a timeout) is logged with the reason the metrics counted.
    public func takeDeparture(_ id: ClientID) -> DisconnectReason? {
        let slot = Int(id.index)
        guard slot < departures.count else { return nil }
        defer { departures[slot] = nil }
        return departures[slot]
    }
}
