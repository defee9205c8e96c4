import ChatCore

/// Accounts and server bans in the history database (migration 2). Loaded whole at start —
/// logins are checked against memory — and written through the store writer's thread.
public final class AccountStore {
    private let database: Database
    private let saveAccount: Statement
    private let saveBan: Statement
    private let removeBan: Statement

    /// Shares `database` (and so its thread rule: the loop at start, the writer after).
    public init(database: Database) throws {
        self.database = database
        saveAccount = try database.prepare(
            "INSERT OR REPLACE INTO accounts(name_key, name, hash, updated) VALUES (?1, ?2, ?3, CAST(strftime('%s', 'now') AS INTEGER))")
        saveBan = try database.prepare("INSERT OR REPLACE INTO bans(target, is_address, until, set_by) VALUES (?1, ?2, ?3, ?4)")
        removeBan = try database.prepare("DELETE FROM bans WHERE target = ?1")
    }

    public func loadAccounts() throws -> [String: Account] {
        let statement = try database.prepare("SELECT name_key, name, hash FROM accounts")
        var accounts: [String: Account] = [:]
        while try statement.step() {
            accounts[statement.text(0)] = Account(name: statement.text(1), hash: statement.text(2))
        }
        return accounts
    }

    public func loadBans() throws -> [String: ServerBan] {
        let statement = try database.prepare("SELECT target, is_address, until, set_by FROM bans")
        var bans: [String: ServerBan] = [:]
        while try statement.step() {
            let target = statement.text(0)
            bans[target] = ServerBan(target: target, isAddress: statement.integer(1) != 0,
                                     until: statement.isNull(2) ? nil : statement.real(2), setBy: statement.text(3))
        }
        return bans
    }

    /// Applies changes in one transaction.
    public func apply(_ changes: [AccountChange]) throws {
        try database.transaction {
            for change in changes {
                switch change {
                case .saveAccount(let key, let account):
                    try saveAccount.bind(.text(key), .text(account.name), .text(account.hash))
                    try saveAccount.step()
                case .saveBan(let ban):
                    try saveBan.bind(.text(ban.target), .integer(ban.isAddress ? 1 : 0), ban.until.map { .real($0) } ?? .null, .text(ban.setBy))
                    try saveBan.step()
                case .removeBan(let target):
                    try removeBan.bind(.text(target))
                    try removeBan.step()
                }
            }
        }
    }
}
