import ArgumentParser
import ChatIO
import EventIO

/// The bridge from `Setting.table` to ArgumentParser, so that `serve`'s options are the table's
/// entries and nothing else: no `@Option` is written per setting.
///
/// ArgumentParser finds a command's options by reflecting an instance (`Mirror(reflecting:)`,
/// which honours `CustomReflectable`) and reading the `Option`/`Flag` values it finds under
/// `_name` labels, then decodes each one by that name (without the `_`). So `customMirror`
/// offers one `Option` (or `Flag`) per entry, built with the entry's own parser as its
/// `transform:` (ArgumentParser then words a refusal as for any option: "The value 'x' is
/// invalid for '--max-line-rate': expected …"), and `init(from:)` decodes them back by the
/// same names. `EnvironmentOptions` reads the same table for `CHATD_*`.
struct SettingOptions: ParsableArguments, CustomReflectable {
    /// What the command line set, in table order.
    var changes: [Setting.Change] = []

    init() {}

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for setting in Setting.table {
            let key = Key(setting)
            switch setting.form {
            case .option:
                if let change = try container.decode(Option<Setting.Change?>.self, forKey: key).wrappedValue { changes.append(change) }
            case .flag(let change):
                if try container.decode(Flag<Bool>.self, forKey: key).wrappedValue { changes.append(change) }
            }
        }
    }

    var customMirror: Mirror {
        Mirror(self, children: Setting.table.map { setting -> Mirror.Child in
            let help = ArgumentHelp(setting.help)
            switch setting.form {
            case .option(let parse):
                return (Key(setting).label, Option<Setting.Change?>(name: .long, help: help, transform: parse))
            case .flag:
                return (Key(setting).label, Flag<Bool>(wrappedValue: false, name: .long, help: help))
            }
        })
    }

    /// A setting's name as ArgumentParser keys it: the option name itself (`max-line-rate`);
    /// ArgumentParser's own camel-to-kebab conversion leaves a lower-case hyphenated name as it is.
    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        init(_ setting: Setting) { stringValue = setting.name }
        /// The property-wrapper label ArgumentParser expects in a mirror.
        var label: String { "_" + stringValue }
    }
}
