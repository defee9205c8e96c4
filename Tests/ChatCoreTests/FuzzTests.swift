import Testing
@testable import ChatCore

/// A small deterministic generator (SplitMix64), so a failing input can be reproduced from its
/// seed.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E479
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Input that is mostly hostile but shaped like what reaches a chat port: line ends, telnet
/// commands, UTF-8 fragments, control bytes, commands and plain text, in random-sized chunks.
private func hostileChunks(seed: UInt64, bytes total: Int) -> [[UInt8]] {
    var random = SplitMix(state: seed)
    let pieces: [[UInt8]] = [
        [0x0A], [0x0D], [0x0D, 0x0A], [0x0D, 0x00], [0xFF, 0xFD, 0x06], [0xFF, 0xFA, 0x18], [0xFF, 0xF0],
        [0xFF, 0xFF], [0x1B, 0x5B, 0x32, 0x4A], [0xC2, 0x9B], [0xE2, 0x82], [0xF0, 0x9D, 0x84, 0x9E], [0xED, 0xA0, 0x80],
        Array("/nick a".utf8), Array("/join #r".utf8), Array("/msg a hi".utf8), Array("/part".utf8), Array("/quit".utf8),
        Array("JOIN:x".utf8), Array("SAY::y".utf8), Array(":pm a b".utf8), Array("GET / HTTP/1.1".utf8), Array("hello".utf8),
    ]
    var stream: [UInt8] = []
    while stream.count < total {
        if Bool.random(using: &random) {
            stream += pieces[Int.random(in: 0..<pieces.count, using: &random)]
        } else {
            stream.append(UInt8.random(in: 0...255, using: &random))
        }
    }
    var chunks: [[UInt8]] = []
    var index = 0
    while index < stream.count {
        let size = Int.random(in: 1...64, using: &random)
        chunks.append(Array(stream[index..<min(index + size, stream.count)]))
        index += size
    }
    return chunks
}

/// True if `bytes` is one line chatd may show a terminal: UTF-8, no C0 but TAB, no DEL, no C1.
private func isSafe(_ bytes: ArraySlice<UInt8>) -> Bool {
    guard let text = String(validating: bytes, as: UTF8.self) else { return false }
    return !text.unicodeScalars.contains { scalar in
        (scalar.value < 0x20 && scalar.value != 0x09) || (0x7F...0x9F).contains(scalar.value)
    }
}

/// Number texts that trap a careless conversion or that `Double` reads although no count or
/// duration means them, plus random digit strings of any length with a random point.
private func extremeNumber(using random: inout SplitMix) -> String {
    let extremes = ["inf", "-inf", "nan", "1e300", "-0", "0", "0x10", "1e19", "9223372036854775808", "-9223372036854775809",
                    "200000000000000", "3650", "3651", "315360000", "1.5", "", "18446744073709551616", "2147483648", "-1"]
    if Bool.random(using: &random) { return extremes[Int.random(in: 0..<extremes.count, using: &random)] }
    var digits = (0..<Int.random(in: 1...40, using: &random)).map { _ in Character(String(Int.random(in: 0...9, using: &random))) }
    if Bool.random(using: &random) { digits.insert(".", at: Int.random(in: 0...digits.count, using: &random)) }
    return String(digits)
}

@Suite struct FuzzTests {
    /// Extreme numbers in every numeric argument a client can send (ban durations, history
    /// counts), from an operator (so a ban reaches the ban list and its end is rendered as a
    /// date) and from a guest: nothing traps, each command gets exactly one final reply, and
    /// every line sent is safe.
    @Test(arguments: 0..<40 as Range<UInt64>)
    func extremeNumbersInCommandsNeverTrap(seed: UInt64) {
        var random = SplitMix(state: seed)
        let hub = Hub()
        hub.now = 1_795_256_103
        hub.operatorAccounts = ["boss": Account(name: "boss", hash: "h")]
        hub.history = HistoryBook(linesPerRoom: 200)
        let boss = ClientID(0)
        let guest = ClientID(1)
        hub.connect(boss, address: "127.0.0.1:1000")
        hub.connect(guest, address: "127.0.0.1:1001")
        hub.receive(Array("/login boss password1".utf8), from: boss)
        while let job = hub.nextPasswordJob() { hub.authFinished(AuthResult(job: job, outcome: .verified)) }
        #expect(hub.isOperator(boss), "the operator is logged in")
        hub.outbox.reset()
        let templates: [(before: String, after: String)] = [
            ("/ban victim ", ""), ("/ban victim ", "s"), ("/ban victim ", "m"), ("/ban victim ", "h"), ("/ban victim ", "d"),
            ("/ban 127.0.0.9 ", "d"), ("/ban #lobby victim ", ""), ("/history ", ""), ("/history #lobby ", ""), ("/unban victim", ""),
            ("say ", ""),
        ]
        for _ in 0..<300 {
            let template = templates[Int.random(in: 0..<templates.count, using: &random)]
            let line = template.before.hasSuffix(" ") ? template.before + extremeNumber(using: &random) + template.after : template.before
            let sender = Bool.random(using: &random) ? boss : guest
            hub.now += Double(Int.random(in: 0...100_000, using: &random))
            hub.receive(Array(line.utf8), from: sender)
            let sent = hub.outbox.bytes(for: sender).split(separator: 0x0A)
            for other in hub.outbox.dirty {
                for sentLine in hub.outbox.bytes(for: other).split(separator: 0x0A) { #expect(isSafe(sentLine), "seed \(seed): \(line)") }
            }
            let finals = sent.filter { $0.starts(with: "OK ".utf8) || $0.starts(with: "ERROR ".utf8) }
            #expect(finals.count == (line.hasPrefix("/") ? 1 : 0), "seed \(seed): \(line) -> \(sent.map { String(decoding: $0, as: UTF8.self) })")
            #expect(hub.outbox.closeRequests.isEmpty, "seed \(seed): \(line) closed someone")
            hub.outbox.reset()
        }
    }

    /// Properties of the framer over hostile input: every line is safe and within the cap.
    @Test(arguments: 0..<200 as Range<UInt64>)
    func framedLinesAreAlwaysSafe(seed: UInt64) {
        var framer = LineFramer(maxLineBytes: 64)
        for chunk in hostileChunks(seed: seed, bytes: 4096) {
            framer.feed(chunk) { event in
                if case .line(let line) = event {
                    #expect(!line.isEmpty && line.count <= 64, "seed \(seed)")
                    #expect(isSafe(line[...]), "seed \(seed): \(line)")
                }
            }
        }
    }

    /// The whole pure pipeline over hostile input from several clients: nothing traps, and
    /// every line the hub sends another client is safe to show (telnet answers aside).
    @Test(arguments: 0..<60 as Range<UInt64>)
    func theHubOnlyEverSendsSafeLines(seed: UInt64) {
        var limits = ChatLimits()
        limits.maxLineBytes = 128
        let hub = Hub(limits: limits)
        let clients = 4
        var framers = (0..<clients).map { _ in LineFramer(maxLineBytes: 128) }
        var connected = Set<Int>()
        for slot in 0..<clients {
            hub.connect(ClientID(slot), address: "127.0.0.1:\(5000 + slot)")
            connected.insert(slot)
        }
        let streams = (0..<clients).map { hostileChunks(seed: seed &* 31 &+ UInt64($0), bytes: 3000) }
        for round in 0..<streams.map(\.count).max()! {
            for slot in 0..<clients where round < streams[slot].count && connected.contains(slot) {
                let id = ClientID(slot)
                framers[slot].feed(streams[slot][round]) { event in
                    if case .line(let line) = event { hub.receive(line, from: id) } else { hub.reject(event, from: id) }
                }
            }
            for id in hub.outbox.dirty {
                for line in hub.outbox.bytes(for: id).split(separator: 0x0A) where line.first != 0xFF && !line.starts(with: "HTTP/1.0".utf8) {
                    #expect(isSafe(line) || line.last == 0x0D, "seed \(seed): \(Array(line))")
                }
            }
            for id in hub.outbox.closeRequests { connected.remove(Int(id.index)) }
            hub.outbox.reset()
        }
        #expect(hub.clientCount == connected.count, "seed \(seed)")
    }
}
