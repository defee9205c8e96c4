import Foundation
import Testing
import ChatTestSupport

/// The headless Chromium harness itself, so a broken browser setup is reported as such rather
/// than as a chat failure.
@Suite(.serialized) struct BrowserHarnessTests {
    @Test(.enabled(if: Browser.isAvailable)) func chromiumRunsAPageAndStopsCleanly() throws {

        let browser = try Browser()
        try browser.open("data:text/html,<p id=x>hi</p><input id=i>")
        #expect(try browser.run("return document.getElementById('x').textContent") as? String == "hi")
        try browser.type("#i", "typed")
        #expect(try browser.run("return document.getElementById('i').value") as? String == "typed")
        let profile = browser.profile
        let driver = browser.driver.pid
        browser.quit()
        #expect(!FileManager.default.fileExists(atPath: profile))
        #expect(kill(driver, 0) != 0)
    }
}
