/// An error line sent back to a client. The refusals several commands share are made here
/// only, so their wording cannot drift apart (clients and tests match on it).
struct Refusal: Sendable {
    let code: ErrorCode
    let text: String

    init(_ code: ErrorCode, _ text: String) {
        self.code = code
        self.text = text
    }

    /// A name as the client typed it, made safe to echo and short.
    private static func shown(_ name: String, _ limit: Int = 40) -> String { Sanitizer.printable(name.prefix(limit)) }

    static func notOnline(_ name: String) -> Refusal { Refusal(.noSuchNick, "\"\(shown(name))\" is not online") }

    static func notInRoom(_ name: String, room: String) -> Refusal { Refusal(.noSuchNick, "\(shown(name)) is not in \(room)") }

    static func nameTaken(_ name: String) -> Refusal { Refusal(.nickInUse, "the name \"\(name)\" is taken") }

    static func invalidName(_ name: String) -> Refusal {
        Refusal(.nickInvalid, "\"\(shown(name))\" is not a valid name: use 1-30 of A-Z a-z 0-9 _-.[]{}^| starting with a letter")
    }

    static func invalidRoom(_ name: String) -> Refusal {
        Refusal(.roomInvalid, "\"\(shown(name, 60))\" is not a valid room name: use # and 1-49 of A-Z a-z 0-9 _ - .")
    }

    static func noSuchRoom(_ name: String) -> Refusal { Refusal(.noSuchRoom, "there is no room \(shown(name, 60))") }

    static func notMember(of name: String) -> Refusal { Refusal(.notInRoom, "you are not in \(name); /join it first") }

    static let inNoRoom = Refusal(.noRoom, "you are not in any room; /join one first")

    static func alreadyRegistered(_ name: String) -> Refusal { Refusal(.alreadyRegistered, "\(name) is already registered") }

    static func operatorName(_ name: String, _ code: ErrorCode) -> Refusal { Refusal(code, "\(name) is reserved for a server operator") }

    static func loggedIn(as account: String, _ advice: String) -> Refusal {
        Refusal(.alreadyLoggedIn, "you are logged in as \(account); \(advice)")
    }

    static func nameBanned(_ name: String, _ ban: ServerBan) -> Refusal { Refusal(.banned, "the name \(name) is banned" + ban.suffix) }

    static func textTooLong(_ what: String, _ limit: Int) -> Refusal { Refusal(.textTooLong, "\(what) are limited to \(limit) bytes") }

    static let passwordRequired = Refusal(.passwordRequired, "this server needs a password: send /pass PASSWORD first")

    static func notOwner(of room: String, _ action: String = "do that") -> Refusal { Refusal(.notOwner, "only the owner of \(room) may \(action)") }

    static func notOperator(_ command: String) -> Refusal { Refusal(.notOperator, "only server operators may \(command)") }

    static let badLogin = Refusal(.badLogin, "wrong name or password")

    static let serverBusy = Refusal(.serverBusy, "too many password checks are waiting; try again in a few seconds")
}

extension ServerBan {
    /// ` until 2026-…Z`, or nothing for a ban until lifted.
    var suffix: String { until.map { " until \(Timestamp.iso8601($0))" } ?? "" }
}
