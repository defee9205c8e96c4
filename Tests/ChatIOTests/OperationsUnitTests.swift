import ChatCore
import EventIO
import Foundation
import Logging
import Synchronization
import Testing
@testable import ChatIO

/// The pieces of operating chatd that can be checked without a daemon: /proc parsing, JSON
/// log lines, the systemd environment.
@Suite struct OperationsUnitTests {
    @Test func procStatFieldsAreCountedFromTheLastParenthesis() {
        let line = "4242 (chat d) (x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 3 0 123456 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0\n"
        let stat = ProcessStat(line)
        #expect(stat?.userTicks == 250 && stat?.systemTicks == 75 && stat?.startTicks == 123456)
        #expect(stat?.virtualBytes == 104857600 && stat?.residentPages == 2560)
        #expect(ProcessStat("garbage") == nil)
        #expect(ProcessStat("1 (x) S 1 2") == nil)
        #expect(ProcessMetrics.bootTime("cpu 1 2 3\nbtime 1700000000\nprocesses 9\n") == 1_700_000_000)
    }

    @Test func thisProcessReportsItsOwnFigures() {
        let metrics = ProcessMetrics.read()
        #expect((metrics.cpuSeconds ?? -1) >= 0)
        #expect((metrics.residentBytes ?? 0) > 1 << 20)
        #expect((metrics.openDescriptors ?? 0) >= 3)
        #expect((metrics.maxDescriptors ?? 0) >= (metrics.openDescriptors ?? 0))
        let started = metrics.startTimeSeconds ?? 0
        #expect(started > 1_600_000_000 && started <= Date().timeIntervalSince1970 + 1)
    }

    @Test func aJSONLogLineIsOneObjectWithTimeLevelMessageAndFields() throws {
        let captured = Mutex<[UInt8]>([])
        var handler = JSONLogHandler(label: "chatd") { bytes in captured.withLock { $0 += bytes } }
        handler.logLevel = .trace
        handler.metadata = ["instance": "a"]
        let logger = Logger(label: "chatd", factory: { _ in handler })
        logger.notice("client \"x\"\n disconnected\u{1B}[2J", metadata: ["client": "127.0.0.1:5000", "clients": .stringConvertible(3), "level": "shadowed", "nested": ["k": "v"]])
        let text = captured.withLock { String(decoding: $0, as: UTF8.self) }
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1, "one line")
        let object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "notice")
        #expect(object["message"] as? String == "client \"x\"\n disconnected\u{1B}[2J")
        #expect(object["client"] as? String == "127.0.0.1:5000")
        #expect(object["clients"] as? Int == 3, "counts stay numbers")
        #expect(object["field_level"] as? String == "shadowed", "a field cannot overwrite the level")
        #expect(object["instance"] as? String == "a")
        #expect((object["nested"] as? [String: Any])?["k"] as? String == "v")
        let time = try #require(object["time"] as? String)
        #expect(time.count == 24 && time.hasSuffix("Z") && time.contains("T"), "RFC 3339 UTC with milliseconds: \(time)")
        #expect(!text.contains("\u{1B}"), "control characters are escaped")
    }

    @Test func theWatchdogIntervalIsHalfOfWhatSystemdAsksForAndOnlyForThisProcess() {
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "2000000"]) == 1.0)
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid())"]) == 1.0)
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "0"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "-5"]) == nil)
        #expect(SystemdNotifier.watchdogInterval([:]) == nil)
    }

    @Test func aNotifySocketThatIsNotAnAddressIsAStartError() throws {
        let logger = Logger(label: "test")
        #expect(try SystemdNotifier(environment: [:], logger: logger) == nil)
        #expect(throws: SystemError.self) { try SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"], logger: logger) }
        #expect(throws: SystemError.self) { try SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)], logger: logger) }
    }

    @Test func socketActivationMeantForAnotherProcessIsIgnored() throws {
        #expect(try SocketActivation.take(environment: [:]) == nil)
        #expect(try SocketActivation.take(environment: ["LISTEN_PID": "1", "LISTEN_FDS": "1"]) == nil)
        #expect(throws: SystemError.self) { try SocketActivation.take(environment: ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "5"]) }
    }
}
