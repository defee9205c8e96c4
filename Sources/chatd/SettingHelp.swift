import ArgumentParser
import ChatCore

extension ArgumentHelp {
    /// Help for a range-checked option. ArgumentParser prints no "(default: …)" for an option
    /// with a `transform:` (ours all have one: the `SettingRange` check), so the accepted range
    /// and the default are written into the text here.
    static func setting(_ text: String, _ range: Bounded, default value: (any CustomStringConvertible)? = nil) -> ArgumentHelp {
        let span = "\(Bounded.decimal(range.minimum)) to \(Bounded.decimal(range.maximum))"
        return ArgumentHelp("\(text) (\(span)\(value.map { "; default: \($0)" } ?? ""))")
    }
}
