import Testing
@testable import ChatIO

@Suite struct ConfigFileTests {
    @Test func parsesKeysValuesAndComments() throws {
        let pairs = try ConfigFile.parse("# limits\nmax-line-rate = 5   # per client\n\n  log-level=debug\r\nmotd-file = /etc/motd\n")
        #expect(pairs.map(\.key) == ["max-line-rate", "log-level", "motd-file"])
        var config = ServerConfig()
        let (level, motd) = try ConfigFile.apply(pairs, to: &config)
        #expect(config.maxLineRate == 5)
        #expect(level == "debug")
        #expect(motd == "/etc/motd")
    }

    @Test func rejectsWhatItCannotReload() {
        #expect(throws: ConfigFile.Problem.self) { try ConfigFile.parse("port = 80\n") }
        #expect(throws: ConfigFile.Problem.self) { try ConfigFile.parse("max-clients\n") }
        var config = ServerConfig()
        #expect(throws: ConfigFile.Problem.self) { try ConfigFile.apply([("max-line-rate", "fast")], to: &config) }
        #expect(throws: ConfigFile.Problem.self) { try ConfigFile.apply([("output-soft-limit", "9999999999")], to: &config) }
    }
}
