extension Hub {
    /// A client of the HTTP door finished its WebSocket handshake: from now on it reads native
    /// lines, one per text frame (`WireStyle.webSocket`), its lines are chatd's commands
    /// (`HTTPDialect.receive`), and it is greeted like an nc user (welcome, lobby).
    public func openWebSocket(_ id: ClientID) {
        guard clients[id] != nil else { return }
        changeStyle(id, to: .webSocket)
        NativeDialect().connected(id, in: self)
    }
}
