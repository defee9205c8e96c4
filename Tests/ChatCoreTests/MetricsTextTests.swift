import Testing
@testable import ChatCore

@Suite struct MetricsTextTests {
    @Test func aFamilyHasHelpTypeAndEscapedSamples() {
        var out = PrometheusText()
        out.family("chatd_disconnects_total", .counter, "Clients that left,\nby reason \\ why.")
        out.sample("chatd_disconnects_total", ["reason": "quit \"now\"\n"], UInt64(3))
        out.gauge("chatd_rooms", "Rooms.", 2)
        #expect(out.text == """
            # HELP chatd_disconnects_total Clients that left,\\nby reason \\\\ why.
            # TYPE chatd_disconnects_total counter
            chatd_disconnects_total{reason="quit \\"now\\"\\n"} 3
            # HELP chatd_rooms Rooms.
            # TYPE chatd_rooms gauge
            chatd_rooms 2

            """)
    }

    @Test func numbersAreWrittenAsPrometheusReadsThem() {
        #expect(PrometheusText.format(3) == "3")
        #expect(PrometheusText.format(0.25) == "0.25")
        #expect(PrometheusText.format(1e-05) == "1e-05")
        #expect(PrometheusText.format(.infinity) == "+Inf")
        #expect(PrometheusText.format(-.infinity) == "-Inf")
        #expect(PrometheusText.format(.nan) == "NaN")
        #expect(PrometheusText.format(1e20) == "1e+20")
    }

    @Test func metricNamesAreChecked() {
        #expect(PrometheusText.isValidName("chatd_loop_iteration_duration_seconds"))
        #expect(PrometheusText.isValidName("a:b_c9"))
        #expect(!PrometheusText.isValidName("9lives"))
        #expect(!PrometheusText.isValidName("chatd-bytes"))
        #expect(!PrometheusText.isValidName(""))
    }

    @Test func aHistogramCountsIntoCumulativeBuckets() {
        var histogram = Histogram(bounds: [0.001, 0.01, 0.1])
        for value in [0.0005, 0.001, 0.002, 0.05, 7, -1] { histogram.observe(value) }
        #expect(histogram.counts == [3, 1, 1, 1], "a bound is inclusive; a negative value counts as zero")
        #expect(histogram.cumulativeCounts == [3, 4, 5, 6])
        #expect(histogram.count == 6)
        #expect(abs(histogram.sum - 7.0535) < 1e-9)
        var out = PrometheusText()
        out.histogram("chatd_test_seconds", "Test.", histogram)
        #expect(out.text.contains("chatd_test_seconds_bucket{le=\"0.001\"} 3\n"))
        #expect(out.text.contains("chatd_test_seconds_bucket{le=\"+Inf\"} 6\nchatd_test_seconds_sum 7.0535\nchatd_test_seconds_count 6\n"))
    }

    @Test func theEndpointAnswersGetMetricsAndNothingElse() {
        func route(_ text: String) -> MetricsHTTP.Route? { MetricsHTTP.route(Array(text.utf8)) }
        #expect(route("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == .metrics(headOnly: false))
        #expect(route("GET /metrics?name[]=x HTTP/1.0\n\n") == .metrics(headOnly: false))
        #expect(route("HEAD /metrics HTTP/1.1\r\n\r\n") == .metrics(headOnly: true))
        #expect(route("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc") == .methodNotAllowed)
        #expect(route("GET / HTTP/1.1\r\n\r\n") == .notFound)
        #expect(route("GET /metricsx HTTP/1.1\r\n\r\n") == .notFound)
        #expect(route("hello there\n") == .badRequest, "junk is answered as soon as its first line ends")
        #expect(route("GET /metrics HTTP/2.0\r\n\r\n") == .badRequest)
        #expect(route("GET  /metrics HTTP/1.1\r\n\r\n") == .badRequest)
        #expect(route("GET /metrics HTTP/1.1\r\nHost: x\r\n") == nil, "waits for the end of the head")
        #expect(route("GET /metr") == nil)
        #expect(MetricsHTTP.route([UInt8](repeating: 0x41, count: MetricsHTTP.maxRequestBytes)) == .tooLarge)
        let headers = "GET /metrics HTTP/1.1\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 500)
        #expect(route(headers) == .tooLarge)
    }

    @Test func answersCarryLengthTypeAndClose() {
        let ok = String(decoding: MetricsHTTP.response(.metrics(headOnly: false), body: Array("a 1\n".utf8)), as: UTF8.self)
        #expect(ok == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 4\r\nConnection: close\r\n\r\na 1\n")
        let head = String(decoding: MetricsHTTP.response(.metrics(headOnly: true), body: Array("a 1\n".utf8)), as: UTF8.self)
        #expect(head.hasSuffix("Content-Length: 4\r\nConnection: close\r\n\r\n"))
        let refused = String(decoding: MetricsHTTP.response(.methodNotAllowed, body: []), as: UTF8.self)
        #expect(refused.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n") && refused.contains("Allow: GET, HEAD\r\n"))
    }

    @Test func hostAndPortAreParsed() {
        #expect(HostPort.parse("127.0.0.1:9878")! == ("127.0.0.1", 9878))
        #expect(HostPort.parse("[::1]:9878")! == ("::1", 9878))
        #expect(HostPort.parse("localhost:1")! == ("localhost", 1))
        #expect(HostPort.parse("::1:9878") == nil)
        #expect(HostPort.parse(":9878") == nil)
        #expect(HostPort.parse("127.0.0.1") == nil)
        #expect(HostPort.parse("127.0.0.1:65536") == nil)
    }

    @Test func deliveriesCountEveryRecipientOnceAndNotTheRefusedOnes() {
        var outbox = Outbox()
        outbox.setFullAllowance(10)
        for slot in 0..<4 { outbox.register(ClientID(slot)) }
        let message = outbox.publish { $0 += Array("hello\n".utf8) }
        outbox.deliver(message, toAll: [ClientID(0), ClientID(1), ClientID(2), ClientID(3)], except: ClientID(0))
        #expect(outbox.deliveries == 3)
        outbox.deliver(message, to: ClientID(1))  // 12 bytes > allowance 10: refused
        #expect(outbox.deliveries == 3)
        #expect(outbox.overLimit == [ClientID(1)])
        outbox.deliver(message, toAll: [ClientID(1), ClientID(2)], except: nil)  // 1 over limit, 2 over its allowance too
        #expect(outbox.deliveries == 3)
    }

    @Test func disconnectReasonsFollowTheErrorTheClientWasExpelledWith() {
        #expect(DisconnectReason(expelledWith: .flood) == .flood)
        #expect(DisconnectReason(expelledWith: .idle) == .timeout)
        #expect(DisconnectReason(expelledWith: .lineTimeout) == .timeout)
        #expect(DisconnectReason(expelledWith: .outputLimit) == .outputLimit)
        #expect(DisconnectReason(expelledWith: .killed) == .killed)
        #expect(DisconnectReason(expelledWith: .banned) == .banned)
        #expect(DisconnectReason(expelledWith: .badPassword) == .badPassword)
        #expect(Set(DisconnectReason.allCases.map(\.label)).count == DisconnectReason.allCases.count)
    }
}
