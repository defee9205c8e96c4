@testable import ChatCore

extension Hub {
    /// A connection at the hub's current time, for tests that do not care about the clock.
    func connect(_ id: ClientID, address: String) { connect(id, address: address, at: now) }
}
