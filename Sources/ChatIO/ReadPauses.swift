import ChatCore
import EventIO

/// Reads paused for accounts' sake, and their ends: after a wrong server password (a penalty of
/// some seconds the hub asks for), and while the hub holds a client's input because its
/// password command is unanswered (a pause without an end, lifted when the hub lets go).
/// The server holds one; `applyHubEffects` hands it the hub's requests and housekeeping ends
/// the pauses that are over, once a second, from the short list of paused clients.
final class ReadPauses {
    /// Clients whose reads are paused (a penalty or a password hold).
    private var pausedClients: [ClientID] = []

    /// Pauses reading each client for its seconds (a wrong server password). While its input
    /// is held for a password the penalty waits in `penaltyBeforeHold` instead.
    func applyPenalties(_ penalties: [(ClientID, Double)], for server: ChatServer) {
        let now = server.reactor.now
        for (id, seconds) in penalties {
            guard let connection = server.connection(id), !connection.isClosed else { continue }
            if connection.inputHeldForPassword {
                connection.penaltyBeforeHold = now + seconds
                continue
            }
            connection.stopReading(server.reactor.loop)
            if connection.penaltyUntil == nil { pausedClients.append(id) }
            connection.penaltyUntil = now + seconds
        }
    }

    /// Pauses reading a client whose input the hub holds (a password command is pending) and
    /// resumes it once the hub lets go. Implemented as a penalty without an end, so the flood
    /// timer and `endPenalties` leave the socket alone meanwhile. Bytes already read stay in
    /// the connection's held input (`ClientInput` frames nothing while the hub holds); the
    /// held-input timer frames them once the hub lets go, then reading resumes.
    func applyInputHolds(_ changes: [ClientID], for server: ChatServer) {
        let loop = server.reactor.loop
        for id in changes {
            guard let connection = server.connection(id), !connection.isClosed else { continue }
            if server.hub.isHoldingInput(id) {
                guard !connection.inputHeldForPassword else { continue }
                connection.inputHeldForPassword = true
                connection.stopReading(loop)
                if connection.penaltyUntil == nil { pausedClients.append(id) }
                connection.penaltyBeforeHold = connection.penaltyUntil
                connection.penaltyUntil = .infinity
            } else {
                guard connection.inputHeldForPassword else { continue }
                connection.inputHeldForPassword = false
                let earlier = connection.penaltyBeforeHold
                connection.penaltyBeforeHold = nil
                if let earlier, earlier > server.reactor.now {
                    connection.penaltyUntil = earlier  // `endPenalties` resumes it
                    continue
                }
                connection.penaltyUntil = nil
                if connection.peerClosed && connection.heldInput.isEmpty && !connection.closeAfterFlush {
                    server.input.endOfInput(connection, for: server)  // it waited for this answer
                    continue
                }
                if connection.heldInput.isEmpty && !connection.closeAfterFlush && !connection.peerClosed {
                    connection.startReading(loop)
                }
            }
        }
    }

    /// Resumes reading clients whose pause is over (once a second, from housekeeping).
    func endPenalties(for server: ChatServer) {
        guard !pausedClients.isEmpty else { return }
        let now = server.reactor.now
        pausedClients.removeAll { id in
            guard let connection = server.connection(id), !connection.isClosed, let until = connection.penaltyUntil else { return true }
            guard until <= now else { return false }
            connection.penaltyUntil = nil
            if connection.heldInput.isEmpty && !connection.closeAfterFlush && !connection.peerClosed {
                connection.startReading(server.reactor.loop)
            }
            return true
        }
    }
}
