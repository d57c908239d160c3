import Foundation
import SimforgeServer

/// The dev gateway's settings, from its environment (tests pass an ``EnvironmentReader``
/// built from a dictionary).
struct GatewayConfiguration: Sendable {
    /// `GATEWAY_HOST` (default 127.0.0.1), `GATEWAY_PORT` (default 8000).
    var http: HTTPServerConfiguration
    /// `GATEWAY_CONFIG`: comma-separated declarative files, merged in order (default
    /// `kong.yml`). Consumers usually live in a second, generated file that is never committed.
    var configFiles: [String]
    /// `GATEWAY_RATE_LIMITING` (`on` by default): `off` ignores kong.yml's rate-limiting
    /// plugin, for benchmarks that drive one consumer far past its limits.
    var rateLimiting: Bool
    /// `GATEWAY_UPSTREAM_<SERVICE>` (service name upper-cased, `-` as `_`) says where a
    /// kong.yml service really is on this machine, e.g. `GATEWAY_UPSTREAM_CATALOG=http://127.0.0.1:8082`.
    private let environment: EnvironmentReader

    init(environment: EnvironmentReader) throws {
        self.http = HTTPServerConfiguration(
            host: environment.string("GATEWAY_HOST", default: "127.0.0.1"),
            port: try environment.int("GATEWAY_PORT", default: 8000, range: 0...65535))
        self.configFiles = environment.string("GATEWAY_CONFIG", default: "kong.yml")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        switch environment.string("GATEWAY_RATE_LIMITING", default: "on").lowercased() {
        case "on", "true", "1": self.rateLimiting = true
        case "off", "false", "0": self.rateLimiting = false
        case let other: throw ConfigurationError("GATEWAY_RATE_LIMITING must be on or off, got '\(other)'")
        }
        self.environment = environment
    }

    /// The base URL of each service: its `GATEWAY_UPSTREAM_*` override, else kong.yml's `url`.
    func upstreams(for services: [KongDeclarativeConfig.Service]) -> [String: String] {
        var upstreams: [String: String] = [:]
        for service in services {
            let variable = "GATEWAY_UPSTREAM_" + service.name.uppercased().replacingOccurrences(of: "-", with: "_")
            let url = self.environment.optional(variable) ?? service.url
            upstreams[service.name] = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        return upstreams
    }
}
