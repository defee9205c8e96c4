import ChatTestSupport
import Foundation
import Glibc
import Testing

/// The operator's tools: the man page checked against `--help` in both directions, `--version`,
/// and `chatd check` against healthy, absent, full and silent servers.
@Suite struct OperatorToolsTests {
    static let manPage = SystemdTests.repository + "/contrib/chatd.8"

    /// `--option` names in a text (`\-\-option` in roff source).
    static func options(in text: String) -> Set<String> {
        let plain = text.replacingOccurrences(of: "\\-", with: "-")
        var found = Set<String>()
        var search = plain.startIndex..<plain.endIndex
        while let match = plain.range(of: #"--[a-z][a-z0-9-]*[a-z0-9]"#, options: .regularExpression, range: search) {
            found.insert(String(plain[match]))
            search = match.upperBound..<plain.endIndex
        }
        return found
    }

    static func run(_ arguments: [String]) throws -> Spawned {
        let process = try Spawned(Daemon.binary, arguments)
        _ = process.waitForExit(timeout: 20)
        return process
    }

    @Test func theManPageListsExactlyTheOptionsOfHelp() throws {
        var helped = Set<String>()
        for command in [["--help"], ["serve", "--help"], ["client", "--help"], ["check", "--help"]] {
            let help = try Self.run(command)
            #expect(help.process.terminationStatus == 0)
            helped.formUnion(Self.options(in: help.output))
        }
        #expect(helped.contains("--metrics") && helped.contains("--log-format") && helped.contains("--timeout"))
        let page = try String(contentsOfFile: Self.manPage, encoding: .utf8)
        let documented = Self.options(in: page)
        #expect(helped.subtracting(documented).isEmpty, "options missing from chatd.8: \(helped.subtracting(documented).sorted())")
        #expect(documented.subtracting(helped).isEmpty, "chatd.8 documents options chatd does not have: \(documented.subtracting(helped).sorted())")
        for subcommand in ["serve", "client", "check"] {
            #expect(page.contains(".B chatd \(subcommand)") || page.contains("\"chatd \(subcommand)\"") || page.contains(".BR serve"), "\(subcommand) in the man page")
        }
    }

    @Test func theManPageRendersWithoutWarningsAndCarriesTheVersion() throws {
        let groff = try Spawned("/usr/bin/groff", ["-man", "-ww", "-z", "-Tutf8", Self.manPage])
        #expect(groff.waitForExit() == 0)
        #expect(groff.errorOutput.isEmpty, "groff warnings: \(groff.errorOutput)")
        let version = try Self.run(["--version"])
        #expect(version.process.terminationStatus == 0)
        let printed = version.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(printed.hasPrefix("chatd ") && printed.split(separator: ".").count == 3, "\(printed)")
        let page = try String(contentsOfFile: Self.manPage, encoding: .utf8)
        #expect(page.contains(".TH CHATD 8 ") && page.contains("\"\(printed)\""), "the man page is for \(printed)")
    }

    @Test func checkIsHealthyAgainstAServingDaemonEvenWithAPassword() throws {
        let daemon = try Daemon(["--history-replay", "0"], environment: ["CHATD_PASSWORD": "check-secret-1"])
        let check = try Self.run(["check", "127.0.0.1:\(daemon.port)"])
        #expect(check.process.terminationStatus == 0)
        let lines = check.output.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("chatd check: 127.0.0.1:\(daemon.port) OK (pong in "), "\(check.output)")
        #expect(check.errorOutput.isEmpty)
    }

    @Test func checkFailsWithOneLineWhenNothingListens() throws {
        let port = try SystemdTests.freePort()
        let check = try Self.run(["check", "127.0.0.1:\(port)", "--timeout", "2"])
        #expect(check.process.terminationStatus == 1)
        #expect(check.output.isEmpty)
        #expect(check.errorOutput == "chatd check: 127.0.0.1:\(port) FAILED: connect(127.0.0.1:\(port)): Connection refused (errno 111)\n")
    }

    @Test func checkFailsAgainstAFullServerAndASilentOne() throws {
        let daemon = try Daemon(["--max-clients", "1"])
        let holder = try daemon.client()
        let full = try Self.run(["check", "127.0.0.1:\(daemon.port)"])
        #expect(full.process.terminationStatus == 1)
        #expect(full.errorOutput.contains("FAILED: the server answered: ERROR SERVER_FULL"), "\(full.errorOutput)")
        holder.close()

        let silent = try TestSocket.listen()  // accepts (the kernel does) but never answers
        defer { close(silent.fd) }
        let started = now()
        let hung = try Self.run(["check", "127.0.0.1:\(silent.port)", "--timeout", "1"])
        #expect(hung.process.terminationStatus == 1)
        #expect(hung.errorOutput == "chatd check: 127.0.0.1:\(silent.port) FAILED: no answer to /ping within 1.0s\n")
        #expect(now() - started < 15, "the timeout bounds the check")
        let usage = try Self.run(["check", "nonsense"])
        #expect(usage.process.terminationStatus == 1, "a usage error is one line and exit 1, as for every chatd command")
    }
}
