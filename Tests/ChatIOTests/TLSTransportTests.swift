import ChatTestSupport
import EventIO
import Glibc
import Testing
@testable import ChatIO

/// The server's TLS transport against `TLSClientSession` over a socket pair: what it hands its
/// sink is parsed record by record, so the record count of a flush is asserted exactly.
@Suite struct TLSTransportTests {
    /// Keeps what the transport emits; the test moves it to the client's end by hand.
    final class RecordingSink: WireSink {
        var bytes: [UInt8] = []
        var isWritable: Bool { true }
        func send(_ vectors: UnsafeMutablePointer<iovec>, count: Int) {
            for index in 0..<count {
                if let base = vectors[index].iov_base { bytes += UnsafeRawBufferPointer(start: base, count: vectors[index].iov_len) }
            }
        }
        func send(_ buffer: UnsafeRawBufferPointer) { bytes += buffer }

        /// Takes what was emitted, as TLS records (type, length).
        func takeRecords() -> (wire: [UInt8], records: [(type: UInt8, length: Int)]) {
            let wire = bytes
            bytes = []
            var records: [(UInt8, Int)] = []
            var offset = 0
            while offset + 5 <= wire.count {
                let length = Int(wire[offset + 3]) << 8 | Int(wire[offset + 4])
                records.append((wire[offset], length))
                offset += 5 + length
            }
            return (wire, records)
        }
    }

    /// A handshaken pair: the server transport on one end, a client session on the other.
    final class Pair {
        let certificates: TLSCertificates
        let endpoint: TLSEndpoint
        let transport: TLSTransport
        let client: TLSClientSession
        let clientContext: TLSClientContext
        let sink = RecordingSink()
        let fds: [Int32]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

        init() throws {
            certificates = try TLSCertificates()
            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { throw TestError("socketpair") }
            fds = pair
            try Socket.setNonBlocking(pair[0])
            try Socket.setNonBlocking(pair[1])
            endpoint = try TLSEndpoint(context: try TLSContext(certificatePath: certificates.certificate, keyPath: certificates.key),
                                       readBytes: 64 * 1024)
            transport = try endpoint.makeTransport(fd: pair[0])
            clientContext = try TLSClientContext(verification: .authority(path: certificates.authority))
            client = try TLSClientSession(context: clientContext, fd: pair[1], host: "127.0.0.1")
            for _ in 0..<10 where !(transport.isEstablished && client.isEstablished) {
                _ = try client.continueHandshake()
                _ = try transport.read(into: buffer, sink: sink)
                deliver(sink.takeRecords().wire)
            }
            _ = try client.continueHandshake()
        }

        deinit {
            transport.close(sink: sink)
            fds.forEach { Glibc.close($0) }
            buffer.deallocate()
        }

        /// Writes `wire` to the client's end of the pair (small: the socket buffer takes it).
        func deliver(_ wire: [UInt8]) {
            wire.withUnsafeBytes { _ = try? Socket.write(fds[0], $0) }
        }

        /// Everything the client can read now, decrypted.
        func clientReads() throws -> [UInt8] {
            var out: [UInt8] = []
            while case .done(let count) = try client.read(into: buffer) { out += buffer[0..<count] }
            return out
        }

        /// Hands `pieces` to the transport as one flush's ranges; returns the records made.
        func flush(_ pieces: [[UInt8]]) throws -> [(type: UInt8, length: Int)] {
            let joined = pieces.flatMap { $0 }
            return try joined.withUnsafeBytes { all in
                let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: pieces.count)
                defer { vectors.deallocate() }
                var offset = 0
                for (index, piece) in pieces.enumerated() {
                    vectors[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: all.baseAddress! + offset), iov_len: piece.count)
                    offset += piece.count
                }
                try transport.write(vectors, count: pieces.count, sink: sink)
                let (wire, records) = sink.takeRecords()
                deliver(wire)
                return records
            }
        }
    }

    @Test func aFlushOfManySmallMessagesIsOneRecord() throws {
        let pair = try Pair()
        #expect(pair.transport.isEstablished && pair.client.isEstablished)
        let messages = (0..<100).map { Array("#lobby <b\($0)> message number \($0)\n".utf8) }
        let records = try pair.flush(messages)
        #expect(records.count == 1, "one record for 100 messages, not one per message: \(records)")
        #expect(records.allSatisfy { $0.type == 0x17 })
        #expect(try pair.clientReads() == messages.flatMap { $0 }, "the client reads them back, in order")
    }

    @Test func bigFlushesAreCutIntoFullRecords() throws {
        let pair = try Pair()
        let big = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let records = try pair.flush([big])
        // 16 KiB of plaintext per record: 16384 + 16384 + 7232, each plus the 22-byte TLS 1.3 overhead.
        #expect(records.map(\.length) == [16_384 + 17, 16_384 + 17, 7_232 + 17], "\(records)")
        #expect(try pair.clientReads() == big)

        let mixed = [Array(big[0..<20_000]), Array(repeating: 0x61, count: 100), Array(repeating: 0x62, count: 100)]
        let mixedRecords = try pair.flush(mixed)
        #expect(mixedRecords.count == 2, "a full record straight from the big range, then the rest gathered into one: \(mixedRecords)")
        #expect(try pair.clientReads() == mixed.flatMap { $0 })
    }
}
