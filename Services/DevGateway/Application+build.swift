import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import SimforgeServer

/// The dev gateway: loads kong.yml (and any extra declarative files), fails fast on what
/// it cannot honour, and serves the proxy.
func buildApplication(
    configuration: GatewayConfiguration,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let configs = try configuration.configFiles.map { path in
        do {
            return try KongDeclarativeConfig.load(path: path)
        } catch {
            throw ConfigurationError("cannot load gateway config \(path): \(error)")
        }
    }
    let services = configs.flatMap { $0.services ?? [] }
    let routes = try RouteTable(services: services)
    let policy = try GatewayPolicy(configs: configs)
    let rateLimits = try configs.flatMap { $0.plugins ?? [] }.compactMap(\.rateLimiting).first.map(RateLimiter.Configuration.init)
    let limiter = configuration.rateLimiting ? rateLimits.map { RateLimiter(configuration: $0) } : nil
    let rateLimitSummary = rateLimits.map { $0.limits.map { "\($0.value)/\($0.key.rawValue)" }.sorted().joined(separator: " ") } ?? "none"

    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.redirectConfiguration = .disallow
    clientConfiguration.decompression = .disabled
    clientConfiguration.httpVersion = .http1Only
    let connectMillis = services.compactMap(\.connect_timeout).max() ?? 60_000
    let readMillis = services.compactMap(\.read_timeout).max() ?? 60_000
    let writeMillis = services.compactMap(\.write_timeout).max() ?? 60_000
    clientConfiguration.timeout = .init(
        connect: .milliseconds(Int64(connectMillis)), read: .milliseconds(Int64(readMillis)),
        write: .milliseconds(Int64(writeMillis)))
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)

    let responder = GatewayResponder(
        routes: routes, policy: policy, rateLimiter: limiter, upstreams: configuration.upstreams(for: services), client: client,
        publicPort: configuration.http.port)
    logger.info("gateway configured", metadata: [
        "gateway.services": "\(services.map(\.name))", "gateway.files": "\(configuration.configFiles)",
        "gateway.rate_limits": "\(limiter.map { _ in rateLimitSummary } ?? "off")",
    ])
    return Application(
        responder: responder,
        server: SimforgeHTTP.server,
        configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port), serverName: "simforge-dev-gateway"),
        services: [HTTPClientService(client: client)],
        onServerRunning: onServerRunning,
        logger: logger
    )
}
