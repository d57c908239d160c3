import Foundation
import HTTPTypes
import Hummingbird

/// The origins (`scheme://host[:port]`) the API is published under (`PUBLIC_URL`,
/// comma-separated, the first one the default). Links in answers (`next`, `downloadUrl`,
/// a tus upload's `Location`, ...) use the origin the client addressed only when it is one
/// of these; any other `Host` or `X-Forwarded-Host` gets the default, so a client cannot
/// make the API hand out links to a host of its choosing.
public struct PublicOrigins: Sendable, Equatable {
    /// In configuration order; never empty.
    public let origins: [String]

    /// What `PUBLIC_URL` is when unset: the gateway of `deploy/run-local.sh`.
    public static let defaultValue = "http://127.0.0.1:8000"

    /// - Parameter list: `PUBLIC_URL`'s value: comma-separated origins (a trailing `/` or a
    ///   default port is dropped).
    public init(_ list: String) throws {
        let origins = try list.split(separator: ",").map { item in
            let text = item.trimmingCharacters(in: .whitespaces)
            guard let origin = Self.normalized(text.hasSuffix("/") ? String(text.dropLast()) : text) else {
                throw ConfigurationError("PUBLIC_URL: '\(text)' is not an origin like https://api.example.org[:port]")
            }
            return origin
        }
        guard !origins.isEmpty else { throw ConfigurationError("PUBLIC_URL must name at least one origin") }
        self.origins = origins
    }

    /// `PUBLIC_URL` (default ``defaultValue``).
    public init(environment: EnvironmentReader) throws {
        try self.init(environment.string("PUBLIC_URL", default: Self.defaultValue))
    }

    /// The origin to build `request`'s links on: the one it addressed, if configured.
    public func origin(of request: Request) -> String {
        let claimed = Self.normalized(Self.claimedOrigin(of: request))
        return claimed.flatMap { self.origins.contains($0) ? $0 : nil } ?? self.origins[0]
    }

    /// `scheme://host[:port]` as a client addressed us: from the headers Kong sends
    /// (`X-Forwarded-Proto`, `X-Forwarded-Host`, `X-Forwarded-Port`) or, without a gateway,
    /// from `Host`.
    static func claimedOrigin(of request: Request) -> String {
        let headers = request.headers
        let scheme = headers[forwarded("Proto")].flatMap(firstValue)?.lowercased() ?? "http"
        var host: String
        if let forwardedHost = headers[forwarded("Host")].flatMap(firstValue) {
            host = forwardedHost
            if let port = headers[forwarded("Port")].flatMap(firstValue), !hasPort(host) {
                host += ":\(port)"
            }
        } else {
            host = request.head.authority ?? "localhost"
        }
        return "\(scheme)://\(host)"
    }

    /// Lower-cased scheme and host, no default port, no path; `nil` when not an http(s) origin.
    static func normalized(_ text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
              components.path.isEmpty, components.query == nil, components.fragment == nil, components.user == nil
        else { return nil }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let port = components.port.flatMap { $0 == (scheme == "https" ? 443 : 80) ? nil : $0 }
        return "\(scheme)://\(bracketed.lowercased())" + (port.map { ":\($0)" } ?? "")
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
}

/// Absolute URLs of the API, on the request's public origin (``PublicOrigins``, resolved
/// by ``PublicOriginMiddleware`` into the context).
public enum PublicURL {
    /// The absolute URL of `path` (which starts with `/`) on the public origin.
    public static func absolute(_ path: String, context: SimforgeRequestContext) -> String {
        context.publicOrigin + path
    }

    /// The public prefix of the caller's API: `.../{userId}/api/v2/`.
    public static func apiBase(userId: String, context: SimforgeRequestContext) -> String {
        self.absolute("/\(userId)/api/v2/", context: context)
    }
}

/// Resolves each request's public origin (``PublicOrigins/origin(of:)``) into the context.
public struct PublicOriginMiddleware: RouterMiddleware {
    public typealias Context = SimforgeRequestContext

    let origins: PublicOrigins

    public init(origins: PublicOrigins) {
        self.origins = origins
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.publicOrigin = self.origins.origin(of: request)
        return try await next(request, context)
    }
}
