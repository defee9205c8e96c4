import Testing
import EventIO

@Suite struct DigestTests {
    @Test func theRFC6455HandshakeExample() throws {
        // RFC 6455 §1.3: this key gives this accept value.
        #expect(try Digest.webSocketAccept(key: "dGhlIHNhbXBsZSBub25jZQ==", guid: "258EAFA5-E914-47DA-95CA-C5AB0DC85B11") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func base64Padding() {
        #expect(Digest.base64([]) == "")
        #expect(Digest.base64(Array("f".utf8)) == "Zg==")
        #expect(Digest.base64(Array("fo".utf8)) == "Zm8=")
        #expect(Digest.base64(Array("foo".utf8)) == "Zm9v")
    }
}
