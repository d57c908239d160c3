import AsyncHTTPClient
import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import SimforgeServer

/// The jobs service: checks the database and migrates at start; relays the outbox to the
/// status service for as long as it runs.
/// - Parameter backend: where submitted jobs run; without one they wait `Pending`.
func buildApplication(
    configuration: JobsConfiguration,
    logger: Logger,
    registry: PrometheusCollectorRegistry,
    backend: (any ComputeBackend)? = nil
) async throws -> some ApplicationProtocol {
    let postgres = configuration.postgres.makeClient(logger: logger)
    let repository = JobPostgresRepository(client: postgres)
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(2), read: .seconds(30))))
    let client = { (url: String) in InternalClient(baseURL: url, token: configuration.internalToken, client: http) }
    let relay = OutboxRelay(repository: repository, status: client(configuration.statusURL), logger: logger)
    let validator = JobValidator(
        catalog: client(configuration.catalogURL), files: client(configuration.filesURL), jobTokenSecret: configuration.internalToken,
        defaultWalltimeHours: configuration.defaultWalltimeHours)

    let router = SimforgeHTTP.makeRouter()
    OperationalRoutes(postgres: postgres, registry: registry).register(on: router)
    JobController(repository: repository, validator: validator, relay: relay, backend: backend)
        .addRoutes(to: SimforgeHTTP.publicRoutes(on: router))
    AgentEventController(repository: repository, relay: relay)
        .addRoutes(to: router.group("/internal/jobs/{jobId}").add(middleware: JobTokenMiddleware(secret: configuration.internalToken)))

    var services: [any Service] = [HTTPClientService(client: http), OutboxRelayService(relay: relay)]
    if let backend {
        services.append(Dispatcher(
            repository: repository, backend: backend, relay: relay, tokenSecret: configuration.internalToken,
            interval: .milliseconds(200), logger: logger))
    }
    return SimforgeHTTP.makeApplication(
        name: "jobs", router: router, http: configuration.http, postgres: postgres, migrations: JobsMigrations.runner,
        services: services, logger: logger)
}
