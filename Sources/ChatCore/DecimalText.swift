/// Integers written as decimal digits straight into a byte buffer, as `"\(value)"` writes them,
/// without a String in between: the welcome's line limit, and the time of every stored line.
enum DecimalText {
    static func append(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
    }
}
