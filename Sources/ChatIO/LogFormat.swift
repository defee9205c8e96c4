import EventIO
import Logging

/// `--log-format`: today's text lines, or one JSON object per line for machines.
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json

    /// Installs the handler for every logger the process makes.
    public func bootstrap(level: Logger.Level) {
        let format = self
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : TextLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
