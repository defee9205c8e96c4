import ChatCore
import ChatIO
import EventIO
import Glibc
import Logging

extension Serve {
    /// The cluster link for `--cluster`, or nil on a single node. Redis must answer now (a
    /// node that cannot reach it refuses to start: one line, exit 1); once running, an outage
    /// only cuts the node off from the others. `CHATD_REDIS_PASSWORD` (taken out of the
    /// environment block like `CHATD_PASSWORD`) is used when the URL carries no password.
    func makeClusterLink(_ settings: DaemonSettings, server: ChatServer, reactor: Reactor, logger: Logger,
                         environmentPassword: [UInt8]?) throws -> ClusterLink? {
        guard let text = settings.cluster else { return nil }
        guard var url = RedisURL(text) else { throw StartError("--cluster must be redis://[:password@]HOST:PORT[/db]") }
        if url.password == nil, let environmentPassword { url.password = String(decoding: environmentPassword, as: UTF8.self) }
        do {
            try ClusterLink.checkReachable(url)
        } catch {
            throw StartError("cluster: \(error)")
        }
        let node = settings.nodeName ?? Self.defaultNodeName(port: server.boundAddress.port)
        guard RedisURL.isValidNodeName(node) else {
            throw StartError("cluster: the node name \(node) is not 1-64 of A-Z a-z 0-9 . _ : -; give one with --node-name")
        }
        let link = ClusterLink(url: url, node: node, hub: server.hub, reactor: reactor, logger: logger,
                               historyMaxLines: settings.history.retention.maxLinesPerRoom)
        link.store(in: server)  // accounts, bans and history live in Redis, not the node's database
        return link
    }

    /// The machine's host name and the port: unique across machines (the listening address
    /// is often 0.0.0.0 on all of them) and across the nodes of one machine.
    static func defaultNodeName(port: UInt16) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "chatd"
        let cleaned = String(host.map { RedisURL.isValidNodeName(String($0)) ? $0 : "-" }.prefix(50))
        return "\(cleaned.isEmpty ? "chatd" : cleaned):\(port)"
    }
}
