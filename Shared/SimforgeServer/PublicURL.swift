import Foundation
import HTTPTypes
import Hummingbird

/// The absolute URL a client used to reach us, rebuilt from the headers Kong sends
/// (`X-Forwarded-Proto`, `X-Forwarded-Host`, `X-Forwarded-Port`) or, without a gateway,
/// from `Host`.
public enum PublicURL {
    /// `scheme://host[:port]` with no trailing slash.
    public static func origin(of request: Request) -> String {
        let headers = request.headers
        let scheme = headers[forwarded("Proto")].flatMap(firstValue)?.lowercased() ?? "http"
        var host: String
        if let forwardedHost = headers[forwarded("Host")].flatMap(firstValue) {
            host = forwardedHost
            if let port = headers[forwarded("Port")].flatMap(firstValue).flatMap(Int.init),
               !hasPort(host), port != defaultPort(for: scheme) {
                host += ":\(port)"
            }
        } else {
            host = request.head.authority ?? "localhost"
        }
        return "\(scheme)://\(host)"
    }

    /// The absolute URL of `path` (which starts with `/`) on the public origin.
    public static func absolute(_ path: String, for request: Request) -> String {
        origin(of: request) + path
    }

    /// The public prefix of the caller's API: `.../{userId}/api/v2/`.
    public static func apiBase(userId: String, for request: Request) -> String {
        absolute("/\(userId)/api/v2/", for: request)
    }

    private static func forwarded(_ name: String) -> HTTPField.Name {
        HTTPField.Name("X-Forwarded-\(name)")!
    }

    /// Proxies append to `X-Forwarded-*` lists; the first entry is the client-facing one.
    private static func firstValue(_ header: String) -> String? {
        let value = header.split(separator: ",", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) }
        return value?.isEmpty == false ? value : nil
    }

    private static func hasPort(_ host: String) -> Bool {
        if host.hasPrefix("[") { return host.contains("]:") }
        return host.contains(":")
    }

    private static func defaultPort(for scheme: String) -> Int {
        scheme == "https" ? 443 : 80
    }
}
