import ChatCore

/// Where the lines said on this node go to be kept: one interface, two stores, chosen once at
/// start-up, like `AccountStorage`. A single node writes them to its SQLite database through the
/// store writer's thread (`DatabaseHistory`); a cluster node appends them to the rooms' Redis
/// streams (`RedisHistory`, ClusterLink+Storage.swift). The hub hands over the same thing to
/// either, once per loop iteration (`HubEffects.history`: the lines said here, in order, with
/// the rooms' protection changes among them), and never asks which store it is.
///
/// Reading differs by nature and is chosen at the same moment: the database is read on the
/// loop through its read-only connection (one indexed read, `HistoryReader`), Redis through the
/// link's command connection, whose answer comes later (Hub+ClusterHistory.swift).
protocol HistoryStorage: AnyObject {
    /// Stores one iteration's hand-over.
    func append(_ history: HistoryHandOver)
}

/// History in the node's SQLite database: the hand-over goes to the store writer, whose bytes
/// in flight bound how far it may fall behind (`StoreLink`).
final class DatabaseHistory: HistoryStorage {
    private unowned let server: ChatServer

    init(server: ChatServer) { self.server = server }

    func append(_ history: HistoryHandOver) {
        if let line = server.store.submit(history, now: server.reactor.now) { server.logger.notice("\(line)") }
    }
}
