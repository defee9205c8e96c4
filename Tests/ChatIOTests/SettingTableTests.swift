import ChatCore
import EventIO
import Foundation
import Logging
import Testing
@testable import ChatIO

/// The settings table is the one place a setting is declared: the command line, `CHATD_*` and
/// the `--config` file read it, and a SIGHUP applies what the file says through
/// `DaemonSettings.loaded` and `ChatServer.reload` alone.
@Suite struct SettingTableTests {
    @Test func everyNameIsUniqueAndTheConfigKeysAreTheReloadableOptions() {
        let names = Setting.table.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(ConfigFile.keys == Set(Setting.table.filter(\.reloadable).map(\.name)))
        #expect(ConfigFile.keys.isSuperset(of: ["log-level", "motd-file", "max-clients", "operators", "tls-cert"]))
        #expect(!ConfigFile.keys.contains("port") && !ConfigFile.keys.contains("db"))
        #expect(Setting.named("max-line-rate")?.environmentKey == "CHATD_MAX_LINE_RATE")
        for setting in Setting.table where setting.reloadable {
            guard case .option = setting.form else { Issue.record("\(setting.name): a flag cannot be a config key"); continue }
        }
    }

    @Test func theCommandLineAndTheFileShareOneParserAndOneRefusal() throws {
        guard let setting = Setting.named("idle-timeout"), case .option(let parse) = setting.form else { Issue.record("no idle-timeout"); return }
        var settings = DaemonSettings()
        try parse("42").apply(to: &settings)
        #expect(settings.server.idleTimeout == 42)
        #expect(throws: OutOfBounds.self) { try parse("1e300") }
        guard case .option(let days) = Setting.named("history-max-days")?.form else { Issue.record("no history-max-days"); return }
        #expect(DaemonSettings([try days("2")]).history.retention.maxAgeSeconds == 2 * 86_400)
    }

    @Test func aSettingChangedInTheConfigFileIsAppliedOnSighupThroughTheOnePath() throws {
        let directory = NSTemporaryDirectory() + "chatd-settings-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configPath = directory + "/chatd.conf"
        let motdPath = directory + "/motd"
        try "welcome\n".write(toFile: motdPath, atomically: true, encoding: .utf8)
        try "max-clients = 7\n".write(toFile: configPath, atomically: true, encoding: .utf8)

        var base = DaemonSettings()
        base.server.port = 0
        base.configFile = configPath
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let reactor = try Reactor.makePrivate()
        let server = try ChatServer(config: try base.loaded().server, reactor: reactor, logger: logger, descriptorLimit: 4096)
        defer { server.stopWatchers() }
        #expect(server.maxClients == 7 && server.hub.motd.isEmpty)

        // What a SIGHUP does (chatd's Serve): load, then reload; the MOTD comes along.
        try "max-clients = 9\nmotd-file = \(motdPath)\nlog-level = debug\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        let reloaded = try base.loaded()
        server.reload(reloaded.server, logLevel: reloaded.logLevel, descriptorLimit: 4096)
        #expect(server.maxClients == 9)
        #expect(server.hub.motd == ["welcome"])
        #expect(server.logger.logLevel == .debug)

        // A key removed from the file returns to the command line's value.
        try "\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        let emptied = try base.loaded()
        server.reload(emptied.server, logLevel: emptied.logLevel, descriptorLimit: 4096)
        #expect(server.maxClients == 4096 - 32 && server.hub.motd.isEmpty)
    }
}
