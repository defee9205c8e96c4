import ChatTestSupport
import Foundation
import Glibc
import Testing

/// `chatd client` against a hostile or stuck server played by the test itself: its stdin
/// buffer is bounded (back-pressure, nothing lost) and nothing the server sends can drive the
/// terminal.
@Suite struct ClientModeSafetyTests {
    /// Resident memory of a process in bytes, from /proc; nil once it is gone.
    private func residentBytes(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    @Test func aServerThatNeverReadsDoesNotMakeTheClientBufferStdin() throws {
        let (listener, port) = try TestSocket.listen()
        defer { close(listener) }
        // 200 MB of stdin through a pipe; `$!` is the client's own pid.
        let shell = try Spawned("/bin/sh", ["-c", "head -c 200000000 /dev/zero | \"$0\" client 127.0.0.1:\(port) & echo $!; wait", Daemon.binary])
        let server = try TestSocket.accept(listener)
        defer { close(server) }
        let deadline = now() + 10
        var pid: Int32?
        while pid == nil && now() < deadline {
            pid = shell.output.split(separator: "\n").first.flatMap { Int32($0) }
            usleep(10_000)
        }
        let client = try #require(pid)
        defer { kill(client, SIGKILL) }
        // Give it ample time to read everything it would read; sample its memory meanwhile.
        var largest = 0
        let watchUntil = now() + 3
        while now() < watchUntil {
            largest = max(largest, residentBytes(client) ?? 0)
            usleep(20_000)
        }
        #expect(largest > 0, "the client was running")
        #expect(largest < 48 << 20, "RSS stayed small while the server read nothing (\(largest >> 20) MiB)")
    }

    @Test func backPressureLosesNothing() throws {
        let (listener, port) = try TestSocket.listen()
        defer { close(listener) }
        let total = 16_000_000
        let shell = try Spawned("/bin/sh", ["-c", "head -c \(total) /dev/zero | tr '\\0' x | \"$0\" client 127.0.0.1:\(port)", Daemon.binary])
        let server = try TestSocket.accept(listener)
        defer { close(server) }
        usleep(500_000)  // read nothing for a while: the client must stop reading stdin, not drop it
        var received = 0
        var onlyX = true
        var last: UInt8 = 0
        var chunk = [UInt8](repeating: 0, count: 65536)
        let deadline = now() + 30
        while now() < deadline {
            var poller = pollfd(fd: server, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 1000) > 0 else { continue }
            let count = recv(server, &chunk, chunk.count, 0)
            if count <= 0 { break }  // the client half-closed after sending everything
            received += count
            // stdin ends without a newline: the client ends that last line with one.
            let body = received == total + 1 ? chunk[0..<(count - 1)] : chunk[0..<count]
            if body.contains(where: { $0 != UInt8(ascii: "x") }) { onlyX = false }
            last = chunk[count - 1]
        }
        #expect(received == total + 1, "every byte of stdin reached the server, and the last line was ended")
        #expect(onlyX && last == 0x0A)
        shutdown(server, Int32(SHUT_RDWR))
        #expect(shell.waitForExit() == 0)
    }

    @Test func theServersEscapeSequencesNeverReachTheTerminal() throws {
        let (listener, port) = try TestSocket.listen()
        defer { close(listener) }
        let client = try Spawned(Daemon.binary, ["client", "127.0.0.1:\(port)"])
        let server = try TestSocket.accept(listener)
        let hostile = "\u{1b}]0;pwned\u{07}title\n\u{1b}[2Jcleared\n\u{9b}31mred\u{7}\r\n\u{1b}Pdevice\u{1b}\\after\n"
        var bytes = Array(hostile.utf8) + [0x62, 0x61, 0x64, 0xFF, 0x0A]  // "bad", invalid UTF-8, newline
        bytes.withUnsafeMutableBytes { _ = send(server, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(server)
        #expect(client.waitForExit() == 0)
        let output = client.output
        #expect(output == "title\ncleared\nred\nafter\nbad\u{FFFD}\n", "\(Array(output.utf8))")
        #expect(!output.utf8.contains(0x1B) && !output.utf8.contains(0x07) && !output.utf8.contains(0x0D))
    }
}
