import ArgumentParser
import ChatIO
import Glibc

/// Every option of a command can also come from the environment, as the seeds configure:
/// `--max-line-rate 5` is `CHATD_MAX_LINE_RATE=5`, a flag such as `--no-history` is
/// `CHATD_NO_HISTORY=1`. The command line wins over the environment.
///
/// The option names are read from the command type itself (its property wrappers, by
/// reflection), so a new option is reachable from the environment with no list to keep.
enum EnvironmentOptions {
    /// `arguments` with `--option value` pairs from the environment put in front, so any
    /// option also given on the command line overrides them (ArgumentParser keeps the last).
    static func arguments<Command: ParsableCommand>(for command: Command.Type, _ arguments: [String],
                                                    environment: [String: String]) -> [String] {
        var injected: [String] = []
        for child in Mirror(reflecting: Command()).children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            let name = kebabCase(String(label.dropFirst()))
            let wrapper = String(describing: type(of: child.value))
            let isFlag = wrapper.hasPrefix("Flag<")
            guard isFlag || wrapper.hasPrefix("Option<"),  // arguments are positional, not options
                  let value = environment["CHATD_" + name.uppercased().replacingOccurrences(of: "-", with: "_")] else { continue }
            if isFlag {
                if ["1", "true", "yes", "on"].contains(value.lowercased()) { injected.append("--" + name) }
            } else {
                injected += ["--" + name, value]
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
        let variable = "CHATD_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
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

extension String {
    fileprivate func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
