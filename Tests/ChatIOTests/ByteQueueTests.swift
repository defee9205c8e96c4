import Testing
@testable import ChatIO

/// The byte queue behind backlogs and held input gives memory back as it drains.
@Suite struct ByteQueueTests {
    @Test func aQueueThatOnceHeldMegabytesDoesNotPinThemForAFewRemainingBytes() {
        var queue = ByteQueue()
        let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
        for _ in 0..<64 { chunk.withUnsafeBytes { queue.append($0) } }  // 4 MiB
        #expect(queue.count == 4 << 20)
        queue.consume(queue.count - 400)
        #expect(queue.count == 400)
        #expect(queue.capacity < 64 * 1024)
        queue.withUnsafeBytes { bytes in #expect(bytes.allSatisfy { $0 == 0x61 }) }
    }

    @Test func consumingEverythingFreesTheStorage() {
        var queue = ByteQueue()
        [UInt8](repeating: 1, count: 1000).withUnsafeBytes { queue.append($0) }
        queue.consume(1000)
        #expect(queue.isEmpty)
        #expect(queue.capacity == 0)
    }
}
