/// libFuzzer entry point for the pure core, built by scripts/fuzz together with
/// Sources/ChatCore into one module under AddressSanitizer. The input is split between two
/// clients by its first byte; both are framed, parsed and handled by one Hub. Client 0 is a
/// logged-in operator, so `/ban NAME 1e300s` and the like reach the ban list and the date
/// renderer, and scripts/fuzz seeds extreme numbers (a dictionary and a corpus file). The
/// first eight bytes are also rendered as a date and every line is read as a bounded number:
/// neither may trap on any value. A crash, a sanitizer report or a failed property (a line
/// sent to a client that a terminal would interpret) is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatCore(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // The fuzzer's buffer lives for this call only; it is copied into a Swift array at once.
    let input = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let selector = input.first else { return 0 }
    var limits = ChatLimits()
    limits.maxLineBytes = 64 + Int(selector & 0x3F)
    let hub = Hub(limits: limits)
    hub.now = 1_795_256_103
    hub.operatorAccounts = ["boss": Account(name: "boss", hash: "h")]
    hub.connect(ClientID(0), address: "127.0.0.1:1000", at: hub.now)
    hub.connect(ClientID(1), address: "127.0.0.1:1001", at: hub.now)
    hub.receive(Array("/login boss password1".utf8), from: ClientID(0))
    while let job = hub.nextPasswordJob() { hub.authFinished(AuthResult(job: job, outcome: .verified)) }
    hub.outbox.reset()
    if input.count >= 8 {
        let bits = input[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        precondition(Timestamp.iso8601(Double(bitPattern: bits)).utf8.count == 20, "a date that is not 20 characters")
    }
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
                    if let number = Bounded.seconds().value(String(decoding: line, as: UTF8.self)) {
                        precondition(number.isFinite && number <= Bounded.maxSeconds, "a bounded number out of bounds")
                    }
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
