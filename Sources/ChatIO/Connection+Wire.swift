import EventIO
import Glibc

/// A connection is where its transport's wire bytes go: written at once while the socket takes
/// them and nothing waits before them, otherwise appended to the backlog (which the write
/// watcher drains). "Write first, arm later": the server arms the watcher after the operation
/// if the backlog is not empty.
extension Connection: WireSink {
    var isWritable: Bool { pendingOutput == 0 && writeErrno == 0 && !isClosed }

    /// The write that failed, if one did.
    var writeFailure: SystemError? { writeErrno == 0 ? nil : SystemError("sendmsg", "fd \(fd)", errno: writeErrno) }

    func send(_ vectors: UnsafeMutablePointer<iovec>, count: Int) {
        if writeErrno != 0 || isClosed { return }
        if pendingOutput > 0 {
            // Already behind: keep order by appending after the backlog.
            for index in 0..<count { appendToBacklog(Self.bytes(of: vectors[index], from: 0)) }
            return
        }
        let result: IOResult
        do {
            result = try Socket.sendMessage(fd, vectors, count: Int32(count))
        } catch {
            // Typed: a SystemError, the only way sendmsg fails. (An untyped catch-all here once
            // returned with the bytes neither sent nor queued and no error kept.)
            writeErrno = error.errno
            return
        }
        var skip = 0
        if case .done(let written) = result { skip = written }
        server.counters.bytesSent &+= UInt64(skip)
        for index in 0..<count {
            let length = vectors[index].iov_len
            if skip >= length {
                skip -= length
                continue
            }
            appendToBacklog(Self.bytes(of: vectors[index], from: skip))
            skip = 0
        }
    }

    func send(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: base), iov_len: bytes.count)
        send(&vector, count: 1)
    }

    private static func bytes(of vector: iovec, from offset: Int) -> UnsafeRawBufferPointer {
        guard let base = vector.iov_base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: vector.iov_len - offset)
    }
}
