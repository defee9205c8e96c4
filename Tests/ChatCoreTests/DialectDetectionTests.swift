import Testing
@testable import ChatCore

/// `Dialects.detect`: the first bytes choose a protocol, wait for more, or fall back to chatd's.
@Suite struct DialectDetectionTests {
    private func detect(_ text: String) -> DialectID? { Array(text.utf8).withUnsafeBytes { Dialects.detect($0) } }

    @Test func anHTTPMethodAndItsSpaceChooseHTTP() {
        #expect(detect("GET / HTTP/1.1\r\n") == .http)
        #expect(detect("OPTIONS ") == .http)
    }

    @Test func aPrefixOfAnOpeningWaitsForMore() {
        #expect(detect("") == nil)
        #expect(detect("G") == nil)
        #expect(detect("GET") == nil)
        #expect(detect("OPTIO") == nil)
    }

    @Test func anythingElseIsChatdsOwnProtocol() {
        #expect(detect("hello\n") == .native)
        #expect(detect("GETTING there\n") == .native)
        #expect(detect("get / HTTP/1.1") == .native, "methods are case-sensitive (RFC 9110)")
        #expect(detect("/nick bob\n") == .native)
        #expect(Array<UInt8>([0xFF, 0xFD, 0x06]).withUnsafeBytes { Dialects.detect($0) } == .native)
    }

    @Test func everyDialectSitsAtItsOwnIndex() {
        #expect(Dialects.all.count <= Int(UInt8.max))
        #expect(Dialects.all[Int(DialectID.native.index)] is NativeDialect)
        #expect(Dialects.all[Int(DialectID.http.index)] is HTTPDialect)
    }
}
