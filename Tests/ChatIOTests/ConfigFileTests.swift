import ChatCore
import EventIO
import Testing
@testable import ChatIO

@Suite struct ConfigFileTests {
    @Test func parsesKeysValuesAndComments() throws {
        let pairs = try ConfigFile.parse("# limits\nmax-line-rate = 5   # per client\n\n  log-level=debug\r\nmotd-file = /etc/motd\n")
        #expect(pairs.map(\.key) == ["max-line-rate", "log-level", "motd-file"])
        var settings = DaemonSettings()
        try ConfigFile.apply(pairs, to: &settings)
        #expect(settings.server.maxLineRate == 5)
        #expect(settings.logLevel == .debug)
        #expect(settings.motdFile == "/etc/motd")
    }

    @Test func rejectsWhatItCannotReload() {
        #expect(throws: ConfigFile.Problem.self) { try ConfigFile.parse("port = 80\n") }
        #expect(throws: ConfigFile.Problem.self) { try ConfigFile.parse("max-clients\n") }
        var settings = DaemonSettings()
        #expect(throws: ConfigFile.Problem.self) { try ConfigFile.apply([("max-line-rate", "fast")], to: &settings) }
        #expect(throws: ConfigFile.Problem.self) { try ConfigFile.apply([("output-soft-limit", "9999999999")], to: &settings) }
    }
}

/// Extreme numbers through the config parser and applier: each is refused with the same range
/// the command line states (`SettingRange`), and nothing traps.
@Suite struct ConfigFileNumberTests {
    static let numericKeys = ["max-clients", "max-clients-per-address", "max-line-rate", "line-burst", "flood-seconds", "idle-timeout",
                              "partial-line-timeout", "output-hard-limit", "output-soft-limit", "output-soft-seconds"]
    /// Refused by every key.
    static let extremes = ["inf", "-inf", "nan", "1e300", "1e20", "1e19", "-0", "-1", "0x10", "9223372036854775808",
                           "-9223372036854775809", "18446744073709551616", "", "1,000"]
    /// Just over one key's maximum.
    static let overMaximum = [("max-clients", "2147483648"), ("idle-timeout", "315360001"), ("output-hard-limit", "1099511627777"),
                              ("max-line-rate", "1000001"), ("flood-seconds", "0.09")]

    @Test func everyExtremeNumberIsRefusedWithTheCommandLineRange() throws {
        for key in Self.numericKeys {
            for value in Self.extremes + Self.overMaximum.filter { $0.0 == key }.map(\.1) {
                var settings = DaemonSettings()
                let before = settings.server
                do {
                    try ConfigFile.apply(try ConfigFile.parse("\(key) = \(value)\n"), to: &settings)
                    Issue.record("\(key) = \(value) was accepted")
                } catch let problem as ConfigFile.Problem {
                    #expect(problem.description.hasPrefix("the value '\(value)' is invalid for \(key): expected "), "\(problem)")
                }
                #expect(settings.server.maxClients == before.maxClients && settings.server.idleTimeout == before.idleTimeout)
            }
        }
        var settings = DaemonSettings()
        let error = #expect(throws: ConfigFile.Problem.self) { try ConfigFile.apply([("idle-timeout", "1e300")], to: &settings) }
        #expect(error?.description == "the value '1e300' is invalid for idle-timeout: expected a number of seconds from 0 to 315360000 (10 years)")
    }

    @Test func theLargestValuesAreAcceptedExactly() throws {
        var settings = DaemonSettings()
        try ConfigFile.apply(try ConfigFile.parse("""
            max-clients = 2147483647
            output-hard-limit = 1099511627776
            output-soft-limit = 1099511627776
            idle-timeout = 315360000
            flood-seconds = 0.1
            """), to: &settings)
        let config = settings.server
        #expect(config.maxClients == Int(Int32.max))
        #expect(config.outputHardLimit == 1 << 40)
        #expect(config.idleTimeout == Bounded.maxSeconds)
        #expect(config.floodSeconds == 0.1)
    }

    /// Random files of numeric keys and hostile values: either the whole file is refused, or
    /// every value it set is finite and within its range.
    @Test(arguments: 0..<50 as Range<UInt64>)
    func randomFilesAreRefusedOrInRange(seed: UInt64) {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<40 {
            var text = ""
            for _ in 0..<(1 + next(4)) {
                let value: String
                switch next(3) {
                case 0: value = (Self.extremes + Self.overMaximum.map(\.1))[next(Self.extremes.count + Self.overMaximum.count)]
                case 1: value = String(next(1_000_000))
                default: value = String(repeating: "9", count: 1 + next(20)) + (next(2) == 0 ? "" : ".5")
                }
                text += "\(Self.numericKeys[next(Self.numericKeys.count)]) = \(value)\n"
            }
            var settings = DaemonSettings()
            guard (try? ConfigFile.apply(try ConfigFile.parse(text), to: &settings)) != nil else { continue }
            let config = settings.server
            #expect(SettingRange.maxClients.contains(Double(config.maxClients ?? 1)), "\(text)")
            #expect(SettingRange.maxClientsPerAddress.contains(Double(config.maxClientsPerAddress)), "\(text)")
            #expect(SettingRange.maxLineRate.contains(config.maxLineRate) && SettingRange.lineBurst.contains(config.lineBurst), "\(text)")
            #expect(SettingRange.floodSeconds.contains(config.floodSeconds), "\(text)")
            #expect(SettingRange.idleTimeout.contains(config.idleTimeout), "\(text)")
            #expect(SettingRange.partialLineTimeout.contains(config.partialLineTimeout), "\(text)")
            #expect(SettingRange.outputLimit.contains(Double(config.outputHardLimit)), "\(text)")
            #expect(SettingRange.outputLimit.contains(Double(config.outputSoftLimit)), "\(text)")
            #expect(SettingRange.outputSoftSeconds.contains(config.outputSoftSeconds), "\(text)")
        }
    }
}
