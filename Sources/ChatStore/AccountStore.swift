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

    /// Every stored ban. The file is outside chatd's control, so an end time is taken as it is
    /// only if it is a date chatd can show (years 0000–9999, see `Timestamp`). A damaged or
    /// hand-edited one is clamped, and reported once to `damaged`: a number before year 0 has
    /// expired; a later or infinite one, or one that is not a number, becomes "until lifted" —
    /// when in doubt a ban stays.
    public func loadBans(damaged: (String) -> Void = { _ in }) throws -> [String: ServerBan] {
        let statement = try database.prepare("SELECT target, is_address, until, set_by FROM bans")
        var bans: [String: ServerBan] = [:]
        while try statement.step() {
            let target = statement.text(0)
            var until: Double?
            if statement.isNumber(2) {
                let stored = statement.real(2)
                until = stored > Timestamp.latest ? nil : stored >= Timestamp.earliest ? stored : Timestamp.earliest
                if until != stored {
                    damaged("the ban on \(Sanitizer.printable(target.prefix(60))) ends at \(stored), not a date in years 0000-9999; "
                        + (until == nil ? "kept until lifted" : "taken as expired"))
                }
            } else if !statement.isNull(2) {
                damaged("the ban on \(Sanitizer.printable(target.prefix(60))) has an end time that is not a number; kept until lifted")
            }
            bans[target] = ServerBan(target: target, isAddress: statement.integer(1) != 0, until: until, setBy: statement.text(3))
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
