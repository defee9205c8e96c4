import Testing
@testable import ChatCore

private func ip(_ text: String) -> IPAddress? { IPAddress(text[...]) }
private func range(_ text: String) -> AddressRange? { AddressRange(text[...]) }

/// Addresses are compared as 128-bit values, never as text.
@Suite struct AddressTests {
    @Test func everySpellingOfAnIPv6AddressIsOneAddress() throws {
        let loopback = try #require(ip("::1"))
        for spelling in ["0:0:0:0:0:0:0:1", "::0001", "0::1", "0000:0000:0000:0000:0000:0000:0000:0001", "[::1]", "0:0:0::0:0:1"] {
            #expect(ip(spelling) == loopback, "\(spelling)")
        }
        #expect(ip("2001:DB8::1") == ip("2001:0db8:0:0:0:0:0:1"))
        #expect(ip("::") == IPAddress(high: 0, low: 0))
        #expect(ip("1::") == IPAddress(high: 1 << 48, low: 0))
        #expect(ip("::2:3:4:5:6:7:8") == ip("0:2:3:4:5:6:7:8"))
    }

    @Test func anIPv4MappedAddressIsItsIPv4Address() {
        #expect(ip("::ffff:127.0.0.1") == ip("127.0.0.1"))
        #expect(ip("::FFFF:7f00:1") == ip("127.0.0.1"))
        #expect(ip("0:0:0:0:0:ffff:127.0.0.1") == ip("127.0.0.1"))
        #expect(ip("::127.0.0.1") != ip("127.0.0.1"), "IPv4-compatible is a different, IPv6 address")
        #expect(ip("127.0.0.1")?.isIPv4 == true)
        #expect(ip("::1")?.isIPv4 == false)
    }

    @Test func malformedAddressesAreRefused() {
        for text in ["", "1", "127.1", "127.0.0", "127.0.0.1.1", "256.0.0.1", "01.2.3.4", "1.2.3.-4", " 1.2.3.4", "1.2.3.4 ",
                     ":", ":::", "1:::2", "1::2::3", ":1::2", "1::2:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2:3:4:5:6:7:8",
                     "12345::", "g::1", "fe80::1%eth0", "::1.2.3.4:5", "1.2.3.4::", "[::1", "::ffff:1.2.3", "bob", "127.0.0.1:5555"] {
            #expect(ip(text) == nil, "\(text)")
        }
    }

    @Test func canonicalTextFollowsRFC5952() {
        let cases = ["0:0:0:0:0:0:0:1": "::1", "2001:0DB8:0000:0000:0000:0000:0000:0001": "2001:db8::1",
                     "2001:db8:0:1:0:0:0:1": "2001:db8:0:1::1", "2001:0:0:1:0:0:0:1": "2001:0:0:1::1",
                     "2001:db8:0:0:1:0:0:1": "2001:db8::1:0:0:1", "1:2:3:4:5:6:7:0": "1:2:3:4:5:6:7:0",
                     "::": "::", "::ffff:10.0.0.1": "10.0.0.1", "1:0:2:3:4:5:6:7": "1:0:2:3:4:5:6:7"]
        for (text, canonical) in cases { #expect(ip(text)?.description == canonical, "\(text)") }
    }

    @Test func rangesCoverTheirAddressesInBothFamilies() throws {
        let loopbackNet = try #require(range("127.0.0.0/8"))
        #expect(loopbackNet.contains(try #require(ip("127.255.0.3"))))
        #expect(loopbackNet.contains(try #require(ip("::ffff:127.0.0.9"))))
        #expect(!loopbackNet.contains(try #require(ip("128.0.0.1"))))
        #expect(!loopbackNet.contains(try #require(ip("::1"))))
        let documentation = try #require(range("2001:db8::/32"))
        #expect(documentation.contains(try #require(ip("2001:db8:ffff::1"))))
        #expect(!documentation.contains(try #require(ip("2001:db9::1"))))
        #expect(range("::1/128")?.contains(try #require(ip("0::1"))) == true)
        #expect(range("0.0.0.0/0")?.contains(try #require(ip("8.8.8.8"))) == true)
        #expect(range("0.0.0.0/0")?.contains(try #require(ip("::1"))) == false, "an IPv4 block holds no IPv6 address")
        #expect(range("::/0")?.contains(try #require(ip("8.8.8.8"))) == true)
        #expect(range("127.0.0.1/8") == loopbackNet, "host bits are cleared")
        #expect(range("::ffff:127.0.0.0/104") == loopbackNet, "the mapped spelling of the same block")
    }

    @Test func rangeTextIsCanonicalAndMalformedRangesAreRefused() {
        let cases = ["127.0.0.1": "127.0.0.1", "127.0.0.1/32": "127.0.0.1", "127.0.0.9/8": "127.0.0.0/8", "::0001/128": "::1",
                     "2001:DB8::/32": "2001:db8::/32", "::ffff:10.1.2.3/120": "10.1.2.0/24", "0.0.0.0/0": "0.0.0.0/0", "::/0": "::/0"]
        for (text, canonical) in cases { #expect(range(text)?.description == canonical, "\(text)") }
        for text in ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0.0/8/8", "/8", "bob/8"] {
            #expect(range(text) == nil, "\(text)")
        }
    }

    @Test func banTargetsAreAddressesRangesGuestsOrNames() {
        #expect(BanTarget("::0001") == .addresses(AddressRange(IPAddress(high: 0, low: 1))))
        #expect(BanTarget("127.0.0.0/8") == range("127.0.0.0/8").map(BanTarget.addresses))
        #expect(BanTarget("127.0.0.2:52056") == range("127.0.0.2").map(BanTarget.addresses), "a guest's address name: its address")
        #expect(BanTarget("[::1]:52056") == range("::1").map(BanTarget.addresses))
        #expect(BanTarget("Bob") == .name("bob"))
        #expect(BanTarget("9lives") == nil)
        #expect(BanTarget("127.0.0.2:port") == nil)
        #expect(BanTarget("::1:5555") == range("::1:5555").map(BanTarget.addresses), "a bare IPv6 address, not an address name")
    }

    @Test func theBanIndexFindsBansByAddressWhateverTheirStoredSpelling() throws {
        let bans = ["127.0.0.0/8": ServerBan(target: "127.0.0.0/8", isAddress: true, until: nil, setBy: "op"),
                    "0:0:0:0:0:0:0:1": ServerBan(target: "0:0:0:0:0:0:0:1", isAddress: true, until: nil, setBy: "op"),  // an older row
                    "bob": ServerBan(target: "bob", isAddress: false, until: nil, setBy: "op")]
        let index = AddressBanIndex(bans)
        #expect(index.keys(covering: try #require(ip("127.3.2.1"))) == ["127.0.0.0/8"])
        #expect(index.keys(covering: try #require(ip("::1"))) == ["0:0:0:0:0:0:0:1"])
        #expect(index.keys(covering: try #require(ip("10.0.0.1"))).isEmpty)
        #expect(index.key(for: try #require(range("::0001"))) == "0:0:0:0:0:0:0:1")
    }
}
