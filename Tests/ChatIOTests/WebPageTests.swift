import Testing
import Glibc
@testable import ChatIO

@Suite struct WebPageTests {
    /// The page compiled in is web/chat.html: run scripts/embed-web-page after editing it.
    @Test func theEmbeddedPageIsWebChatHTML() throws {
        let root = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
        let path = "/" + root + "/web/chat.html"
        guard let file = fopen(path, "rb") else { throw PageError("cannot open \(path): errno \(errno)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while case let count = fread(&chunk, 1, chunk.count, file), count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
        #expect(WebPage.bytes + [0x0A] == bytes, "web/chat.html changed: run scripts/embed-web-page")
    }

    @Test func thePageInsertsServerTextAsTextOnly() {
        let page = WebPage.source
        #expect(!page.contains("innerHTML") && !page.contains("insertAdjacentHTML") && !page.contains("document.write"))
        #expect(!page.contains("http://") && !page.contains("https://"), "no CDN: the page loads nothing")
    }

    @Test func theAnswerIsRenderedOnce() {
        let text = String(decoding: WebPage.response.prefix(600), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("Content-Length: \(WebPage.bytes.count)\r\n"))
        #expect(WebPage.headResponse.count + WebPage.bytes.count == WebPage.response.count)
    }
}

struct PageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
