import Testing
@testable import ChatCore

/// Numbers from outside: accepted only as plain decimals in range; rendered dates never trap.
@Suite struct BoundedTests {
    /// Texts `Double` or `Int` read (or trap on) that no setting, duration or count means.
    static let extremes = ["inf", "-inf", "nan", "NaN", "infinity", "1e300", "1e19", "1e20", "-0", "-1", "+5", "0x10", "0x1p3",
                           "9223372036854775808", "-9223372036854775809", "1.7976931348623157e308", "", " ", "1 2", "1..2",
                           ".", "1e", String(repeating: "9", count: 400), String(repeating: "0", count: 40) + "1"]

    @Test func extremeTextsAreRefusedByEveryKindOfRange() {
        for range in [Bounded.seconds(), .bytes(), .count(), .count(from: 1), .seconds(to: 1)] {
            for text in Self.extremes {
                #expect(range.value(text) == nil, "\(text) in \(range.expectation)")
                #expect(range.intValue(text) == nil, "\(text) in \(range.expectation)")
                #expect(throws: OutOfBounds(expected: range.expectation)) { try range.parse(text) }
            }
        }
    }

    @Test func plainDecimalsInRangeAreAccepted() throws {
        #expect(Bounded.seconds().value("0") == 0)
        #expect(Bounded.seconds().value("0.5") == 0.5)
        #expect(Bounded.seconds().value(".5") == 0.5)
        #expect(Bounded.seconds().value("315360000") == Bounded.maxSeconds)
        #expect(Bounded.seconds().value("315360000.5") == nil, "just over the maximum")
        #expect(Bounded.bytes().intValue("1099511627776") == 1 << 40)
        #expect(Bounded.bytes().value("1099511627777") == nil)
        #expect(Bounded.count().intValue("2147483647") == Int(Int32.max))
        #expect(Bounded.count().value("2147483648") == nil)
        #expect(Bounded.count().value("1.5") == nil, "counts are whole")
        #expect(Bounded.count(from: 1).value("0") == nil)
        #expect(try Bounded.count().parseInt("007") == 7)
    }

    @Test func theRefusalSaysTheRange() {
        #expect(Bounded.seconds().expectation == "a number of seconds from 0 to 315360000 (10 years)")
        #expect(Bounded.bytes().expectation == "a whole number of bytes from 0 to 1099511627776 (1 TiB)")
        #expect(Bounded.count(from: 1).expectation == "a whole number from 1 to 2147483647")
        #expect(Bounded.seconds(from: 0.1).expectation == "a number of seconds from 0.1 to 315360000 (10 years)")
        #expect(OutOfBounds(expected: "x").description == "expected x")
    }

    @Test func containsRefusesWhatIsNotFinite() {
        let range = Bounded.seconds()
        #expect(!range.contains(.nan) && !range.contains(.infinity) && !range.contains(-.infinity) && !range.contains(-1))
        #expect(range.contains(0) && range.contains(-0.0) && range.contains(Bounded.maxSeconds))
    }

    @Test func anyDoubleRendersAsADateWithoutTrapping() {
        #expect(Timestamp.iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.iso8601(-0.0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.iso8601(1_795_256_103) == "2026-11-21T10:15:03Z")
        #expect(Timestamp.iso8601(-1) == "1969-12-31T23:59:59Z")
        let latest = "9999-12-31T23:59:59Z"
        let earliest = "0000-01-01T00:00:00Z"
        #expect(Timestamp.iso8601(Timestamp.latest) == latest)
        #expect(Timestamp.iso8601(Timestamp.earliest) == earliest)
        for later in [1e300, .infinity, .greatestFiniteMagnitude, 9.3e18, Timestamp.latest + 1] {
            #expect(Timestamp.iso8601(later) == latest, "\(later)")
        }
        for earlier in [-1e300, -.infinity, -.greatestFiniteMagnitude, -9.3e18, .nan, Timestamp.earliest - 1] {
            #expect(Timestamp.iso8601(earlier) == earliest, "\(earlier)")
        }
    }

    @Test func anyBitPatternRendersAsADate() {
        var state: UInt64 = 0x1234_5678
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            #expect(Timestamp.iso8601(Double(bitPattern: state)).utf8.count == 20)
        }
    }

    @Test func banDurationsAreBoundedAndPlain() {
        func ban(_ duration: String) -> Command? { CommandParser.parse(Array("/ban victim \(duration)".utf8)).command }
        #expect(ban("90s") == .ban(target: "victim", seconds: 90))
        #expect(ban("30m") == .ban(target: "victim", seconds: 1800))
        #expect(ban("1.5h") == .ban(target: "victim", seconds: 5400))
        #expect(ban("3650d") == .ban(target: "victim", seconds: Bounded.maxSeconds))
        #expect(ban("45") == .ban(target: "victim", seconds: 45))
        for bad in ["1e300s", "200000000000000d", "3651d", "infs", "nand", "inf", "0x10m", "-0s", "0s", "0", "9223372036854775808s",
                    "1e19", "d", "-5m", "5w"] {
            guard case .invalid(.usage, let text) = ban(bad) else {
                Issue.record("\(bad): \(String(describing: ban(bad)))")
                continue
            }
            #expect(text.contains("at most 3650d"), "\(bad): \(text)")
        }
    }

    @Test func historyCountsThatDoNotFitAreUsageErrors() {
        for bad in ["9223372036854775808", "-9223372036854775809", "1e300", "inf", "nan", "0x10"] {
            guard case .invalid(.usage, _) = CommandParser.parse(Array("/history \(bad)".utf8)).command else {
                Issue.record("/history \(bad)")
                continue
            }
            guard case .invalid(.usage, _) = CommandParser.parse(Array("/history #lobby \(bad)".utf8)).command else {
                Issue.record("/history #lobby \(bad)")
                continue
            }
        }
    }
}
