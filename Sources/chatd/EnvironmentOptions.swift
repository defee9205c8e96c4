import ArgumentParser
import ChatIO
import EventIO
import Glibc

/// Every option of a command can also come from the environment, as the seeds configure:
/// `--max-line-rate 5` is `CHATD_MAX_LINE_RATE=5`, a flag such as `--no-history` is
/// `CHATD_NO_HISTORY=1`. The command line wins over the environment.
///
/// `serve`'s options are the entries of `Setting.table`; `client`'s are read from its property
/// wrappers. Either way a new option is reachable from the environment with no list to keep.
enum EnvironmentOptions {
    /// An option that the environment can set: its long name, and whether it is a flag.
    struct Spelling {
        let name: String
        let isFlag: Bool
    }

    /// `serve`'s options: the entries of `Setting.table`.
    static var settings: [Spelling] {
        Setting.table.map { setting in
            if case .flag = setting.form { return Spelling(name: setting.name, isFlag: true) }
            return Spelling(name: setting.name, isFlag: false)
        }
    }

    /// The options of a command written with `@Option`/`@Flag` (`client`), read from its
    /// property wrappers by reflection, so a new option there needs no list either.
    static func options<Command: ParsableCommand>(of command: Command.Type) -> [Spelling] {
        Mirror(reflecting: Command()).children.compactMap { child in
            guard let label = child.label, label.hasPrefix("_") else { return nil }
            let wrapper = String(describing: type(of: child.value))
            let isFlag = wrapper.hasPrefix("Flag<")
            guard isFlag || wrapper.hasPrefix("Option<") else { return nil }  // arguments are positional, not options
            return Spelling(name: kebabCase(String(label.dropFirst())), isFlag: isFlag)
        }
    }

    /// `arguments` with `--option value` pairs from the environment put in front, so any
    /// option also given on the command line overrides them (ArgumentParser keeps the last).
    static func arguments(for options: [Spelling], _ arguments: [String], environment: [String: String]) -> [String] {
        var injected: [String] = []
        for option in options {
            guard let value = environment[Setting.environmentKey(for: option.name)] else { continue }
            if option.isFlag {
                if ["1", "true", "yes", "on"].contains(value.lowercased()) { injected.append("--" + option.name) }
            } else {
                injected += ["--" + option.name, value]
            }
        }
        return injected + arguments
    }

    /// " (CHATD_IDLE_TIMEOUT=1e19 is set in the environment)" when an error `message` names an
    /// option (`'--idle-timeout`) that the environment sets, else "": the operator who typed no
    /// such option learns where it came from.
    static func source(of message: String, environment: [String: String]) -> String {
        guard let start = message.firstRange(of: "'--") else { return "" }
        let name = message[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
        let variable = Setting.environmentKey(for: String(name))
        guard !name.isEmpty, let value = environment[variable] else { return "" }
        return " (\(variable)=\(value.prefix(quotedValueLength)) is set in the environment)"
    }

    /// Longest part of a variable's value repeated in an error line.
    static let quotedValueLength = 40

    /// The process environment as a dictionary, without the secrets (`SecretEnvironment`
    /// takes those itself, so no copy of them lingers here).
    static var current: [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            defer { cursor += 1 }
            if SecretEnvironment.isSecret(entry) { continue }
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
        }
        return result
    }

    /// `maxLineRate` → `max-line-rate`, as ArgumentParser names options.
    static func kebabCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result += "-" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
