import ChatCore
import EventIO

/// One daemon setting, described once: its option name (also its `--config` key and, upper-cased,
/// its `CHATD_*` variable), its help, how its text is parsed and range-checked, and whether a
/// SIGHUP may change it. `Setting.table` lists every setting of `chatd serve`; the command line,
/// the environment, the `--config` file and SIGHUP all read that list, so a new setting is one
/// entry there (and the field it sets).
public struct Setting: Sendable {
    /// What a setting's text does to the settings, once parsed and checked.
    public struct Change: Sendable {
        let body: @Sendable (inout DaemonSettings) -> Void
        public func apply(to settings: inout DaemonSettings) { body(&settings) }
    }

    /// How a setting is spelled on the command line.
    public enum Form: Sendable {
        /// `--name VALUE`: the text is parsed and range-checked into a change, or refused with
        /// the reason (an `OutOfBounds` naming the accepted range).
        case option(@Sendable (String) throws -> Change)
        /// `--name` alone (`CHATD_NAME=1`); never in the `--config` file.
        case flag(Change)
    }

    /// The long option name without dashes: `max-line-rate`.
    public let name: String
    /// The help line, with the accepted range and the default where there are ones.
    public let help: String
    public let form: Form
    /// Whether the `--config` file may set it, at start and again on SIGHUP. The listening
    /// addresses, the store and the files that are themselves re-read cannot change while running.
    public let reloadable: Bool

    /// `CHATD_MAX_LINE_RATE` for `max-line-rate`.
    public var environmentKey: String { Self.environmentKey(for: name) }

    /// `CHATD_` and the option name, upper-cased with `_` for `-`.
    public static func environmentKey(for name: String) -> String {
        "CHATD_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// The setting named `name`, if there is one.
    public static func named(_ name: String) -> Setting? { table.first { $0.name == name } }
}

// MARK: Kinds of setting

extension Setting {
    /// A number read through `range` (the same check, and the same refusal, wherever it comes
    /// from) and stored as `convert` makes it. `shownDefault` is the default the help states.
    static func bounded<Value: Sendable>(_ name: String, _ path: WritableKeyPath<DaemonSettings, Value> & Sendable, _ range: Bounded,
                               reloadable: Bool, shownDefault: String?, help: String,
                               convert: @escaping @Sendable (Double) -> Value) -> Setting {
        let span = "\(Bounded.decimal(range.minimum)) to \(Bounded.decimal(range.maximum))"
        return Setting(name: name, help: "\(help) (\(span)\(shownDefault.map { "; default: \($0)" } ?? ""))",
                       form: .option { text in
                           let value = convert(try range.parse(text))
                           return Change { $0[keyPath: path] = value }
                       },
                       reloadable: reloadable)
    }

    /// A number with fractions (seconds, rates, days), its default stated in the help.
    static func number(_ name: String, _ path: WritableKeyPath<DaemonSettings, Double> & Sendable, _ range: Bounded,
                       reloadable: Bool = false, help: String) -> Setting {
        bounded(name, path, range, reloadable: reloadable, shownDefault: "\(DaemonSettings()[keyPath: path])", help: help) { $0 }
    }

    /// A whole number (a count, bytes), its default stated in the help unless `showsDefault`
    /// is false (a default that depends on the machine). The range keeps it far below `Int.max`.
    static func whole(_ name: String, _ path: WritableKeyPath<DaemonSettings, Int> & Sendable, _ range: Bounded,
                      reloadable: Bool = false, showsDefault: Bool = true, help: String) -> Setting {
        bounded(name, path, range, reloadable: reloadable, shownDefault: showsDefault ? "\(DaemonSettings()[keyPath: path])" : nil, help: help) { Int($0) }
    }

    /// A whole number with no default value (nil: the help says what happens then).
    static func whole(_ name: String, _ path: WritableKeyPath<DaemonSettings, Int?> & Sendable, _ range: Bounded,
                      reloadable: Bool = false, help: String) -> Setting {
        bounded(name, path, range, reloadable: reloadable, shownDefault: nil, help: help) { Int($0) }
    }

    /// A TCP port (`SettingRange.port` ends at 65535, so the conversion cannot trap).
    static func port(_ name: String, _ path: WritableKeyPath<DaemonSettings, UInt16> & Sendable, help: String) -> Setting {
        bounded(name, path, SettingRange.port, reloadable: false, shownDefault: "\(DaemonSettings()[keyPath: path])", help: help) { UInt16($0) }
    }

    /// A TCP port that is off unless given.
    static func port(_ name: String, _ path: WritableKeyPath<DaemonSettings, UInt16?> & Sendable, help: String) -> Setting {
        bounded(name, path, SettingRange.port, reloadable: false, shownDefault: nil, help: help) { UInt16($0) }
    }

    /// Free text with a default, stated in the help.
    static func text(_ name: String, _ path: WritableKeyPath<DaemonSettings, String> & Sendable, help: String) -> Setting {
        let shown = DaemonSettings()[keyPath: path]
        return Setting(name: name, help: "\(help) (default: \(shown))", form: .option { text in Change { $0[keyPath: path] = text } }, reloadable: false)
    }

    /// Free text, unset unless given (a path, an address).
    static func text(_ name: String, _ path: WritableKeyPath<DaemonSettings, String?> & Sendable,
                     reloadable: Bool = false, help: String) -> Setting {
        Setting(name: name, help: help, form: .option { text in Change { $0[keyPath: path] = text } }, reloadable: reloadable)
    }

    /// One of a fixed set of words (a log level, a log format), listed in the help.
    static func choice<Value: RawRepresentable<String> & CaseIterable & Sendable>(
        _ name: String, _ path: WritableKeyPath<DaemonSettings, Value> & Sendable, reloadable: Bool = false, help: String
    ) -> Setting {
        let words = Value.allCases.map(\.rawValue)
        let shown = DaemonSettings()[keyPath: path].rawValue
        return Setting(name: name, help: "\(help) (values: \(words.joined(separator: ", ")); default: \(shown))",
                       form: .option { text in
                           guard let value = Value(rawValue: text) else { throw OutOfBounds(expected: "one of \(words.joined(separator: ", "))") }
                           return Change { $0[keyPath: path] = value }
                       },
                       reloadable: reloadable)
    }

    /// A flag: given, it stores `value`.
    static func flag(_ name: String, _ path: WritableKeyPath<DaemonSettings, Bool> & Sendable, sets value: Bool, help: String) -> Setting {
        Setting(name: name, help: help, form: .flag(Change { $0[keyPath: path] = value }), reloadable: false)
    }

    /// A comma-separated list of names; blanks around and between commas are dropped.
    static func names(_ name: String, _ path: WritableKeyPath<DaemonSettings, [String]> & Sendable,
                      reloadable: Bool = false, help: String) -> Setting {
        Setting(name: name, help: help,
                form: .option { text in
                    let names = text.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
                    return Change { $0[keyPath: path] = names }
                },
                reloadable: reloadable)
    }
}
