import ChatCore

/// Where accounts and server bans are kept: one interface, two stores, chosen once at
/// start-up. A single node keeps them in its SQLite database (`DatabaseAccounts`); a cluster
/// node keeps them in Redis (`RedisAccounts`, ClusterLink+Accounts.swift), where every node
/// reads the same ones. The hub never asks which: it hands over changes nobody waits on
/// (`HubEffects.accountChanges`: bans, an expired ban's removal) and account writes a client's
/// reply waits on (`HubEffects.accountWrites`: `/register`, `/passwd`), and each write is
/// answered through `Hub.accountWriteFinished` on the loop once the store has it (a SQLite
/// commit, or Redis's answer). Without a store (`--no-history` on a single node) there is
/// none: accounts and bans last until exit and a write is answered at once.
///
/// Room history chooses the same way, once (`Hub.clusterOwnsHistory`): SQLite chunks on a
/// single node, Redis streams on a cluster node.
protocol AccountStorage: AnyObject {
    /// Stores changes nobody waits on.
    func save(_ changes: [AccountChange])
    /// Stores writes whose clients wait; each is answered through `Hub.accountWriteFinished`.
    func write(_ writes: [AccountWrite])
    /// At exit, after the loop stopped: what the last iteration handed over (nobody waits).
    func finish(_ changes: [AccountChange], _ writes: [AccountWrite])
}

/// Accounts and bans in the node's SQLite database: the store writer's thread commits them,
/// and the commit reports come back through the write-report inbox (`PasswordWork`).
final class DatabaseAccounts: AccountStorage {
    private unowned let server: ChatServer

    init(server: ChatServer) { self.server = server }

    func save(_ changes: [AccountChange]) { server.store.writer?.submit(changes) }

    func write(_ writes: [AccountWrite]) {
        guard let writer = server.store.writer, let inbox = server.passwordWork.writeReports else {
            for write in writes { server.hub.accountWriteFinished(ticket: write.ticket, error: "the database is closed") }
            return
        }
        writer.submit(writes) { inbox.post($0) }
    }

    func finish(_ changes: [AccountChange], _ writes: [AccountWrite]) {
        if !changes.isEmpty { server.store.writer?.submit(changes) }
        // A registration or password change hashed in the last iteration is still committed;
        // its client is already gone, so nobody waits for the answer.
        if !writes.isEmpty { server.store.writer?.submit(writes) { _ in } }
    }
}
