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

@Suite struct FuzzTests {
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
