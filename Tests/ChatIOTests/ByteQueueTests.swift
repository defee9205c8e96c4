import EventIO
import Testing

/// The one byte queue of the server's backlogs, `chatd client` and the load tool: FIFO order
/// across appends and partial consumes, lazy compaction, and memory given back as it drains.
@Suite struct ByteQueueTests {
    @Test func bytesComeOutInOrderAcrossPartialConsumes() {
        var queue = ByteQueue()
        queue.append(contentsOf: Array("hello ".utf8))
        queue.append(UInt8(ascii: "w"))
        [UInt8]("orld".utf8).withUnsafeBytes { queue.append($0) }
        #expect(queue.count == 11)
        queue.consume(6)
        #expect(queue.withUnsafeBytes { Array($0) } == Array("world".utf8))
        queue.consume(100)  // more than is there: empties, never underflows
        #expect(queue.isEmpty && queue.count == 0)
    }

    @Test func aLongQueueConsumedPastTheThresholdKeepsItsTail() {
        var queue = ByteQueue()
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        queue.append(contentsOf: bytes)
        var offset = 0
        while offset < 150_000 {
            queue.consume(10_000)
            offset += 10_000
            #expect(queue.withUnsafeBytes { $0.first } == bytes[offset])
        }
        #expect(queue.count == bytes.count - offset)
        #expect(queue.withUnsafeBytes { Array($0) } == Array(bytes[offset...]))
    }

    @Test func aQueueThatKeepsCapacityKeepsItWhenDrained() {
        var queue = ByteQueue(keepsCapacity: true)
        queue.append(contentsOf: [UInt8](repeating: 7, count: 4096))
        queue.consume(4096)
        #expect(queue.isEmpty)
        #expect(queue.capacity >= 4096)
    }

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
