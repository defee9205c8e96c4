import ChatCore

/// The chat page chatd serves at `GET /`: web/chat.html compiled into the binary as a string
/// literal (`WebPage+Source.swift`, written by scripts/embed-web-page), so the daemon needs no
/// file beside it and the page always matches the server that speaks to it.
public enum WebPage {
    /// The page's bytes.
    public static let bytes: [UInt8] = Array(source.utf8)

    /// The whole `200 OK` answer, rendered once: every browser gets the same bytes. The page
    /// may not be framed by other sites, and it loads nothing from anywhere (its CSP says so).
    public static let response: [UInt8] = HTTPResponse.render(.ok, contentType: "text/html; charset=utf-8", extraHeaders: headers, body: bytes)
    /// The `HEAD /` answer.
    public static let headResponse: [UInt8] = HTTPResponse.render(.ok, contentType: "text/html; charset=utf-8", extraHeaders: headers, body: bytes, headOnly: true)

    static let headers = [
        "Cache-Control: no-cache",
        "X-Content-Type-Options: nosniff",
        "X-Frame-Options: DENY",
        "Referrer-Policy: no-referrer",
        "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ]
}
