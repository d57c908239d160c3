import Foundation
import SimforgeServer

/// The dev gateway's settings, from its environment (tests pass an ``EnvironmentReader``
/// built from a dictionary).
struct GatewayConfiguration: Sendable {
    /// `GATEWAY_HOST` (default 127.0.0.1), `GATEWAY_PORT` (default 8000), and the
    /// services' `HTTP_HEADER_TIMEOUT_SECONDS` and `HTTP_BODY_IDLE_TIMEOUT_SECONDS`.
    var http: HTTPServerConfiguration
    /// `GATEWAY_CONFIG`: comma-separated declarative files, merged in order (default
    /// `kong.yml`). Consumers usually live in a second, generated file that is never committed.
    var configFiles: [String]
    /// `GATEWAY_RATE_LIMITING` (`on` by default): `off` ignores kong.yml's rate-limiting
    /// plugin, for benchmarks that drive one consumer far past its limits.
    var rateLimiting: Bool
    /// `GATEWAY_THREADS` (default 1): event-loop threads. One serves thousands of requests a
    /// second and streams uploads at disk speed; on a small machine shared with the
    /// services, a second thread costs more in context switches than it gives
    /// (BENCHMARKS.md: 0.30x against 0.39x of the direct rate on 2 cores).
    var threads: Int
    /// `GATEWAY_SECRET` (required): sent to the services in `X-Gateway-Secret`, the proof
    /// that a request passed the gateway.
    var secret: String
    /// `GATEWAY_UPSTREAM_<SERVICE>` (service name upper-cased, `-` as `_`): where a kong.yml
    /// service really runs on this machine, one base URL or several comma-separated (its
    /// replicas), e.g. `GATEWAY_UPSTREAM_JOBS=http://127.0.0.1:8083,http://127.0.0.1:8093`.
    private let environment: EnvironmentReader

    init(environment: EnvironmentReader) throws {
        self.http = try HTTPServerConfiguration(
            host: environment.string("GATEWAY_HOST", default: "127.0.0.1"),
            port: try environment.int("GATEWAY_PORT", default: 8000, range: 0...65535), environment: environment)
        self.configFiles = environment.string("GATEWAY_CONFIG", default: "kong.yml")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        switch environment.string("GATEWAY_RATE_LIMITING", default: "on").lowercased() {
        case "on", "true", "1": self.rateLimiting = true
        case "off", "false", "0": self.rateLimiting = false
        case let other: throw ConfigurationError("GATEWAY_RATE_LIMITING must be on or off, got '\(other)'")
        }
        self.threads = try environment.int("GATEWAY_THREADS", default: 1, range: 1...256)
        self.secret = try environment.require("GATEWAY_SECRET")
        self.environment = environment
    }

    /// Each service's balancer: over its `GATEWAY_UPSTREAM_*` URLs when set, else over the
    /// targets of the upstream its url's host names, else its url alone; health-checked as
    /// that upstream says.
    func balancers(services: [KongDeclarativeConfig.Service], upstreams: [KongDeclarativeConfig.Upstream]) throws -> [String: UpstreamBalancer] {
        var balancers: [String: UpstreamBalancer] = [:]
        for service in services {
            guard let url = URLComponents(string: service.url), let scheme = url.scheme, let host = url.host else {
                throw GatewayConfigurationError("service '\(service.name)': url \(service.url) has no scheme or host")
            }
            let upstream = upstreams.first { $0.name == host }
            if let algorithm = upstream?.algorithm, algorithm != "round-robin" {
                throw GatewayConfigurationError("upstream '\(host)': the dev gateway balances round-robin only, not \(algorithm)")
            }
            let path = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
            let variable = "GATEWAY_UPSTREAM_" + service.name.uppercased().replacingOccurrences(of: "-", with: "_")
            var targetURLs: [String]
            if let override = self.environment.optional(variable) {
                targetURLs = override.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            } else if let upstream {
                let targets = (upstream.targets ?? []).filter { ($0.weight ?? 100) != 0 }
                guard Set(targets.map { $0.weight ?? 100 }).count <= 1 else {
                    throw GatewayConfigurationError("upstream '\(host)': the dev gateway gives every target the same weight")
                }
                // Kong's default port of a target is 8000.
                targetURLs = targets.map { "\(scheme)://\($0.target.contains(":") ? $0.target : $0.target + ":8000")\(path)" }
            } else {
                targetURLs = [service.url.hasSuffix("/") ? String(service.url.dropLast()) : service.url]
            }
            guard !targetURLs.isEmpty else {
                throw GatewayConfigurationError("service '\(service.name)': its upstream '\(host)' has no target")
            }
            balancers[service.name] = UpstreamBalancer(
                service: service.name, targetURLs: targetURLs,
                policy: try HealthPolicy(upstream?.healthchecks, upstream: host), retries: service.retries ?? 5)
        }
        return balancers
    }
}
