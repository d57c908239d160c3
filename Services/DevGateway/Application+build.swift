import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SimforgeServer
import Synchronization

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
    let balancers = try configuration.balancers(services: services, upstreams: configs.flatMap { $0.upstreams ?? [] })
    let routes = try RouteTable(services: services)
    let policy = try GatewayPolicy(configs: configs)
    let rateLimits = try configs.flatMap { $0.plugins ?? [] }.compactMap(\.rateLimiting).first.map(RateLimiter.Configuration.init)
    let limiter = configuration.rateLimiting ? rateLimits.map { RateLimiter(configuration: $0) } : nil
    let rateLimitSummary = rateLimits.map { $0.limits.map { "\($0.value)/\($0.key.rawValue)" }.sorted().joined(separator: " ") } ?? "none"

    let connectMillis = services.compactMap(\.connect_timeout).max() ?? 60_000
    let readMillis = services.compactMap(\.read_timeout).max() ?? 60_000
    let pools = UpstreamConnectionPool(settings: .init(
        connectTimeout: .milliseconds(Int64(connectMillis)),
        // Services close a keep-alive connection idle past their header timeout: drop idle
        // connections well before, so no request is sent on one a service is closing.
        idleTimeout: TimeAmount(configuration.http.headerTimeout / 2)))
    let planner = RequestPlanner(
        routes: routes, policy: policy, rateLimiter: limiter, balancers: balancers,
        publicPort: configuration.http.port, secret: configuration.secret)
    let connections = ProxyChildChannel(
        planner: planner, pools: pools, http: configuration.http, readTimeout: .milliseconds(Int64(readMillis)), logger: logger)
    // The active health checks' probes.
    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.redirectConfiguration = .disallow
    clientConfiguration.httpVersion = .http1Only
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)

    logger.info("gateway configured", metadata: [
        "gateway.targets": "\(balancers.mapValues { $0.targets.map(\.url) })", "gateway.files": "\(configuration.configFiles)",
        "gateway.rate_limits": "\(limiter.map { _ in rateLimitSummary } ?? "off")",
    ])
    return Application(
        responder: ProxyOnlyResponder(),
        server: connections.serverBuilder,
        configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port), serverName: "simforge-dev-gateway"),
        services: [
            HTTPClientService(client: client),
            ActiveHealthChecker(balancers: Array(balancers.values), client: client, logger: logger),
        ],
        onServerRunning: onServerRunning,
        eventLoopGroupProvider: .shared(GatewayEventLoops.group(threads: configuration.threads)),
        logger: logger
    )
}

/// The gateway's event loops, one group per thread count for the life of the process
/// (tests start many gateways in one process).
enum GatewayEventLoops {
    private static let groups = Mutex<[Int: MultiThreadedEventLoopGroup]>([:])

    static func group(threads: Int) -> MultiThreadedEventLoopGroup {
        self.groups.withLock { groups in
            if let group = groups[threads] { return group }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
            groups[threads] = group
            return group
        }
    }
}
