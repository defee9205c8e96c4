/// libFuzzer entry point for the pure core, built by scripts/fuzz together with
/// Sources/ChatCore into one module under AddressSanitizer. The input is split between two
/// clients by its first byte; both are framed, parsed and handled by one Hub. A crash, a
/// sanitizer report or a failed property (a line sent to a client that a terminal would
/// interpret) is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatCore(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // The fuzzer's buffer lives for this call only; it is copied into a Swift array at once.
    let input = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let selector = input.first else { return 0 }
    var limits = ChatLimits()
    limits.maxLineBytes = 64 + Int(selector & 0x3F)
    let hub = Hub(limits: limits)
    hub.connect(ClientID(0), address: "127.0.0.1:1000")
    hub.connect(ClientID(1), address: "127.0.0.1:1001")
    var framers = [LineFramer(maxLineBytes: limits.maxLineBytes), LineFramer(maxLineBytes: limits.maxLineBytes)]
    let split = 1 + Int(selector) % max(1, input.count)
    let parts = [input[1..<min(split, input.count)], input[min(split, input.count)...]]
    for (slot, part) in parts.enumerated() {
        var offset = part.startIndex
        while offset < part.endIndex {  // feed in chunks of varying size, as reads arrive
            let end = min(part.endIndex, offset + 1 + Int(part[offset] % 17))
            framers[slot].feed(Array(part[offset..<end])) { event in
                if case .line(let line) = event {
                    precondition(line.count <= limits.maxLineBytes, "line over the cap")
                    hub.receive(line, from: ClientID(slot))
                } else {
                    hub.reject(event, from: ClientID(slot))
                }
            }
            offset = end
        }
    }
    for id in hub.outbox.dirty {
        for line in hub.outbox.bytes(for: id).split(separator: 0x0A) where line.first != 0xFF && line.last != 0x0D {
            guard let text = String(validating: line, as: UTF8.self) else { preconditionFailure("non-UTF-8 line sent") }
            precondition(!text.unicodeScalars.contains { ($0.value < 0x20 && $0.value != 0x09) || (0x7F...0x9F).contains($0.value) },
                         "control character sent to a client")
        }
    }
    hub.outbox.reset()
    return 0
}
