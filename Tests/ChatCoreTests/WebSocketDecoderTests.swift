import Testing
@testable import ChatCore

/// A client frame: FIN/opcode byte, mask bit, the shortest (or forced) length, a mask, payload.
func clientFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true, mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D], rsv: UInt8 = 0, wideLength: Bool = false) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
    let maskBit: UInt8 = masked ? 0x80 : 0
    if wideLength {
        out.append(maskBit | 127)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF)) }
    } else if payload.count < 126 {
        out.append(maskBit | UInt8(payload.count))
    } else {
        out.append(maskBit | 126)
        out.append(UInt8(payload.count >> 8))
        out.append(UInt8(payload.count & 0xFF))
    }
    if masked {
        out.append(contentsOf: mask)
        out.append(contentsOf: payload.enumerated().map { $0.element ^ mask[$0.offset & 3] })
    } else {
        out.append(contentsOf: payload)
    }
    return out
}

private func decode(_ chunks: [[UInt8]], max: Int = 4096) -> [WebSocketDecoder.Event] {
    var decoder = WebSocketDecoder(maxMessageBytes: max)
    var events: [WebSocketDecoder.Event] = []
    for chunk in chunks {
        decoder.append(chunk)
        while let event = decoder.next() { events.append(event) }
    }
    return events
}

private func text(_ string: String) -> [UInt8] { Array(string.utf8) }

@Suite struct WebSocketDecoderTests {
    @Test func aMaskedTextFrameIsOneMessage() {
        #expect(decode([clientFrame(1, text("Hello"))]) == [.text(text("Hello"))])
    }

    @Test func theRFCExampleFrameDecodes() {
        // RFC 6455 §5.7: a masked "Hello".
        #expect(decode([[0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]]) == [.text(text("Hello"))])
    }

    @Test func bytesArrivingOneAtATimeStillDecode() {
        let frame = clientFrame(1, text("one line")) + clientFrame(1, Array(repeating: 0x61, count: 300))
        #expect(decode(frame.map { [$0] }) == [.text(text("one line")), .text(Array(repeating: 0x61, count: 300))])
    }

    @Test func anUnmaskedFrameFailsWith1002() {
        guard case .fail(.protocolError, _) = decode([clientFrame(1, text("hi"), masked: false)]).first else {
            Issue.record("unmasked frame accepted")
            return
        }
    }

    @Test func fragmentsAreJoinedWithControlFramesBetween() {
        let events = decode([
            clientFrame(1, text("Hel"), fin: false),
            clientFrame(9, text("are you there")),
            clientFrame(0, text("lo "), fin: false),
            clientFrame(10, []),
            clientFrame(0, text("world")),
        ])
        #expect(events == [.ping(text("are you there")), .pong, .text(text("Hello world"))])
    }

    @Test func utf8SplitAcrossFragmentsIsAccepted() {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        #expect(decode([clientFrame(1, [euro[0]], fin: false), clientFrame(0, Array(euro[1...]))]) == [.text(euro)])
    }

    @Test func invalidUTF8FailsWith1007AtOnce() {
        // The first fragment is already impossible: no need to wait for the end.
        #expect(decode([clientFrame(1, [0x61, 0xC0, 0x80], fin: false)]).first.map(isFail(.invalidText)) == true)
        #expect(decode([clientFrame(1, [0xED, 0xA0, 0x80])]).first.map(isFail(.invalidText)) == true)  // a surrogate
        #expect(decode([clientFrame(1, [0xE2, 0x82])]).first.map(isFail(.invalidText)) == true)  // cut off at the end
    }

    @Test func aMessageOverTheLineLimitFailsWith1009BeforeItsPayloadArrives() {
        // Only the header of a 1 MiB frame: the decoder refuses without waiting for the payload.
        let header = Array(clientFrame(1, Array(repeating: 0x61, count: 70000), wideLength: true).prefix(14))
        #expect(decode([header], max: 4096).first.map(isFail(.tooBig)) == true)
        // Fragments adding up past the limit.
        let events = decode([clientFrame(1, Array(repeating: 0x61, count: 3000), fin: false), clientFrame(0, Array(repeating: 0x61, count: 3000))], max: 4096)
        #expect(events.first.map(isFail(.tooBig)) == true)
        // Exactly at the limit is fine, with a 16-bit length.
        #expect(decode([clientFrame(1, Array(repeating: 0x61, count: 4096))]) == [.text(Array(repeating: 0x61, count: 4096))])
    }

    @Test func protocolErrorsFailWith1002() {
        let cases: [[UInt8]] = [
            clientFrame(1, text("x"), rsv: 0x40),  // RSV1 without an extension
            clientFrame(3, text("x")),  // reserved opcode
            clientFrame(0, text("x")),  // continuation with no message
            clientFrame(9, text("x"), fin: false),  // fragmented ping
            clientFrame(9, Array(repeating: 0x61, count: 126)),  // ping too long
            clientFrame(1, text("a"), fin: false) + clientFrame(1, text("b")),  // new message inside one
            clientFrame(8, [0x03]),  // 1-byte close code
            clientFrame(8, [0x03, 0xED]),  // close code 1005 must not be sent
        ]
        for frame in cases {
            #expect(decode([frame]).last.map(isFail(.protocolError)) == true, "\(frame.prefix(4))")
        }
    }

    @Test func binaryMessagesAreRefusedWith1003() {
        #expect(decode([clientFrame(2, [1, 2, 3])]).first.map(isFail(.unsupportedData)) == true)
    }

    @Test func closeFramesCarryTheirCodeAndNothingFollows() {
        #expect(decode([clientFrame(8, [0x03, 0xE8] + text("bye")) + clientFrame(1, text("late"))]) == [.close(code: 1000)])
        #expect(decode([clientFrame(8, [])]) == [.close(code: nil)])
        #expect(decode([clientFrame(8, [0x03, 0xE8, 0xFF])]).first.map(isFail(.invalidText)) == true)
    }

    @Test func nothingIsDecodedAfterAFailure() {
        #expect(decode([clientFrame(1, text("x"), masked: false) + clientFrame(1, text("y"))]).count == 1)
    }
}

private func isFail(_ code: WebSocketCloseCode) -> (WebSocketDecoder.Event) -> Bool {
    { event in
        if case .fail(let got, _) = event { return got == code }
        return false
    }
}

@Suite struct WebSocketFrameTests {
    @Test func serverFramesAreUnmaskedWithTheShortestLength() {
        #expect(WebSocketFrame.text(text("Hello")) == [0x81, 0x05] + text("Hello"))
        let medium = WebSocketFrame.text(Array(repeating: 0x61, count: 300))
        #expect(Array(medium.prefix(4)) == [0x81, 126, 0x01, 0x2C])
        let large = WebSocketFrame.text(Array(repeating: 0x61, count: 70000))
        #expect(Array(large.prefix(10)) == [0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70])
        #expect(WebSocketFrame.headerBytes(payloadLength: 125) == 2)
        #expect(WebSocketFrame.headerBytes(payloadLength: 126) == 4)
        #expect(WebSocketFrame.headerBytes(payloadLength: 65536) == 10)
    }

    @Test func closeFramesStayWithin125Bytes() {
        let frame = WebSocketFrame.close(.tooBig, reason: String(repeating: "é", count: 200))
        #expect(frame[0] == 0x88)
        #expect(Int(frame[1]) <= 125 && frame.count == 2 + Int(frame[1]))
        #expect(frame[2] == 0x03 && frame[3] == 0xF1)
        var check = UTF8Validator()
        #expect(check.feed(frame[4...]) && check.isComplete)
    }

    @Test func utf8ValidatorAgreesWithTheStandardLibrary() {
        let samples: [[UInt8]] = [[0xF4, 0x90, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xE0, 0x9F, 0xBF], [0xC1, 0xBF], [0xF0, 0x9F, 0x98, 0x80], text("naïve ✓")]
        for sample in samples {
            var validator = UTF8Validator()
            let ours = validator.feed(sample) && validator.isComplete
            #expect(ours == (String(validating: sample, as: UTF8.self) != nil), "\(sample)")
        }
    }
}

@Suite struct WebSocketDecoderLinesTests {
    @Test func wholeAndFragmentedMessagesBecomeLinesWithControlEventsInBetween() {
        var decoder = WebSocketDecoder(maxMessageBytes: 4096)
        decoder.append(clientFrame(1, Array("one".utf8)) + clientFrame(1, Array("tw".utf8), fin: false) + clientFrame(9, Array("p".utf8))
                       + clientFrame(0, Array("o".utf8)) + clientFrame(1, Array("three é".utf8)))
        var lines: [UInt8] = []
        #expect(decoder.decode(appendingLinesTo: &lines) == .ping(Array("p".utf8)))
        #expect(decoder.decode(appendingLinesTo: &lines) == nil)
        #expect(String(decoding: lines, as: UTF8.self) == "one\ntwo\nthree é\n")
    }

    @Test func invalidUTF8InAWholeFrameFailsAndLeavesNoBytes() {
        var decoder = WebSocketDecoder(maxMessageBytes: 4096)
        decoder.append(clientFrame(1, Array("ok".utf8)) + clientFrame(1, [0x61, 0xFF, 0x62, 0x63, 0x64]))
        var lines: [UInt8] = []
        guard case .fail(.invalidText, _) = decoder.decode(appendingLinesTo: &lines) else {
            Issue.record("invalid UTF-8 accepted")
            return
        }
        #expect(lines == Array("ok\n".utf8))
    }

    @Test func aLineBreakInsideAMessageDoesNotMakeASecondLine() {
        var decoder = WebSocketDecoder(maxMessageBytes: 4096)
        decoder.append(clientFrame(1, Array("hi\n/quit".utf8)) + clientFrame(1, Array("a\r".utf8), fin: false) + clientFrame(0, Array("\n/nick x".utf8)))
        var lines: [UInt8] = []
        #expect(decoder.decode(appendingLinesTo: &lines) == nil)
        #expect(String(decoding: lines, as: UTF8.self) == "hi /quit\na  /nick x\n", "one message, one line, whole or fragmented")
    }
}
