import CLibEv
import ChatCore
import EventIO
import Glibc

/// Admitting an accepted socket (AcceptLoop hands each one here): refused with one line when
/// the server is full, shutting down or the address has its most connections; otherwise a
/// connection in the table, established at once or after its transport's handshake.
extension ChatServer {
    func admit(fd: Int32, address: SocketAddress, refusalsInPlaintext: Bool, _ makeTransport: (Int32) throws -> Transport) {
        if liveConnections >= maxClients || isShuttingDown {
            if isShuttingDown { counters.refusedShuttingDown &+= 1 } else { counters.refusedServerFull &+= 1 }
            AcceptLoop.refuse(fd, isShuttingDown ? "the server is shutting down" : "the server is full (\(maxClients) clients); try again later",
                   inPlaintext: refusalsInPlaintext)
            if acceptLoop.mayLog(now: reactor.now) {
                logger.warning("refused \(address): \(liveConnections) of \(maxClients) clients connected",
                               metadata: ["client": "\(address)", "reason": isShuttingDown ? "shutting_down" : "server_full", "clients": .stringConvertible(liveConnections)])
            }
            return
        }
        let text = address.description
        let host = ClientAddress.host(of: text)
        let fromHost = table.count(from: host)
        if config.maxClientsPerAddress > 0 && fromHost >= config.maxClientsPerAddress {
            counters.refusedPerAddress &+= 1
            AcceptLoop.refuse(fd, "\(host) already has \(fromHost) connections, the most allowed", code: .tooManyFromAddress, inPlaintext: refusalsInPlaintext)
            return
        }
        let transport: Transport
        do {
            transport = try makeTransport(fd)
        } catch {
            logger.warning("refused \(text): \(error)")
            Socket.close(fd)
            return
        }
        let connection = Connection(id: table.reserveID(), fd: fd, address: text, transport: transport, maxLineBytes: config.chat.maxLineBytes,
                                    bucket: config.makeBucket(now: reactor.now), server: self)
        table.insert(connection, host: host)
        counters.accepted &+= 1
        connection.startReading(reactor.loop)
        if transport.isEstablished {
            establish(connection)
        } else {
            handshakeStarted(connection)
        }
    }
}
