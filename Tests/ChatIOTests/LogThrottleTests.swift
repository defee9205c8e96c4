import Testing
@testable import ChatIO

@Suite struct LogThrottleTests {
    /// One line per interval, each counting what happened since the line before.
    @Test func oneLinePerIntervalWithTheCountOfWhatWasNotLogged() {
        var throttle = LogThrottle(every: 60)
        #expect(throttle.occurred(now: 1000) == 1)
        #expect(throttle.occurred(now: 1001) == nil)
        #expect(throttle.occurred(now: 1059) == nil)
        #expect(throttle.occurred(now: 1060) == 3)
        #expect(throttle.occurred(now: 1061) == nil)
        #expect(throttle.occurred(now: 2000) == 2)
    }
}
