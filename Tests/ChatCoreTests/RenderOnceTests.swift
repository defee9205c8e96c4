import Testing
@testable import ChatCore

/// The render-once cache behind every fan-out: each style a message goes to is rendered once,
/// whatever the number of recipients, and every style has a slot in the cache.
@Suite struct RenderOnceTests {
    @Test func everyWireStyleHasASlot() {
        #expect(WireRenderers.all.count <= RenderOnce.Handles.count)
        #expect(WireStyle.native.renderer is NativeRenderer)
        #expect(WireStyle.seed.renderer is SeedRenderer)
        #expect(WireStyle.webSocket.renderer is WebSocketRenderer)
        #expect(Dialects.all[Int(DialectID.http.index)] is HTTPDialect)
        #expect(Dialects.all[Int(DialectID.irc.index)] is IRCDialect)
        #expect((WireStyle.irc.renderer as? IRCWireRenderer)?.variant == .plain)
        #expect((WireStyle.ircTimed.renderer as? IRCWireRenderer)?.variant == .timed)
        #expect((WireStyle.ircTimedBatched.renderer as? IRCWireRenderer)?.variant == .timedBatched)
        var outbox = Outbox()
        var rendered = RenderOnce(.notice(.joined(name: "alice", room: "#dev")))
        for style in WireStyle.all {
            let before = outbox.renderedBytes
            _ = rendered.handle(style, in: &outbox)
            #expect(outbox.renderedBytes > before, "style \(style.index) rendered something")
        }
    }

    @Test func eachStyleIsRenderedOnceAndSharedByItsRecipients() {
        var outbox = Outbox()
        var rendered = RenderOnce(.chat(room: "#dev", from: "alice", text: ArraySlice("hi".utf8)))
        let first = rendered.handle(.native, in: &outbox)
        let bytesAfterNative = outbox.renderedBytes
        #expect(rendered.handle(.native, in: &outbox) == first)
        #expect(outbox.renderedBytes == bytesAfterNative, "a second native recipient renders nothing")
        let seed = rendered.handle(.seed, in: &outbox)
        #expect(seed != first)
        #expect(rendered.handle(.seed, in: &outbox) == seed)
        #expect(outbox.renderedBytes == bytesAfterNative + "SAY:alice:hi\n".utf8.count)
        #expect(bytesAfterNative == "#dev <alice> hi\n".utf8.count)
    }
}
