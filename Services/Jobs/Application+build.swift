import AsyncHTTPClient
import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import SimforgeServer

/// The jobs service: checks the database and migrates at start; relays the outbox to the
/// status service and dispatches submitted jobs to the compute backend for as long as it runs.
/// - Parameter backend: replaces the configured compute backend (tests).
func buildApplication(
    configuration: JobsConfiguration,
    logger: Logger,
    registry: PrometheusCollectorRegistry,
    backend: (any ComputeBackend)? = nil
) async throws -> some ApplicationProtocol {
    let postgres = configuration.postgres.makeClient(logger: logger)
    let repository = JobPostgresRepository(client: postgres, cachedSpecs: configuration.readCacheEntries)
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(2), read: .seconds(30))))
    let client = { (url: String) in InternalClient(baseURL: url, token: configuration.internalToken, client: http) }
    let relay = OutboxRelay(repository: repository, status: client(configuration.statusURL), logger: logger)
    let validator = JobValidator(
        catalog: client(configuration.catalogURL), files: client(configuration.filesURL), jobTokenSecret: configuration.internalToken,
        defaultWalltimeHours: configuration.defaultWalltimeHours)

    var services: [any Service] = [
        HTTPClientService(client: http), OutboxRelayService(relay: relay),
        // Jobs deleted through other replicas leave this one's read cache.
        NotificationListener(
            client: postgres, channel: JobSpecChannel.name, logger: logger,
            listening: { repository.invalidateCachedSpecs() }, received: { id in repository.invalidateCachedSpecs(id: id) }),
    ]
    let execution = configuration.execution
    let launch = execution.map { AgentLaunch(execution: $0, filesURL: configuration.filesURL, catalogURL: configuration.catalogURL) }
    var backend = backend
    if backend == nil, let execution, let launch {
        switch execution.backend {
        case .local(let slots):
            let local = LocalBackend(launch: launch, slots: slots, logger: logger)
            services.append(LocalBackendService(backend: local))
            backend = local
        case .slurm(let partition):
            backend = SlurmBackend(launch: launch, partition: partition)
        }
    }
    let doorbell = backend.map { _ in Doorbell() }
    if let backend, let doorbell {
        services.append(Dispatcher(
            repository: repository, backend: backend, relay: relay, doorbell: doorbell, tokenSecret: configuration.internalToken,
            walltimeLimitSeconds: execution?.walltimeLimitSeconds, heartbeatTimeout: .seconds(execution?.heartbeatTimeoutSeconds ?? 60),
            reconcileInterval: .seconds(execution?.reconcileSeconds ?? 10), logger: logger))
    }

    let router = SimforgeHTTP.makeRouter()
    OperationalRoutes(postgres: postgres, registry: registry).register(on: router)
    JobController(
        repository: repository, validator: validator, relay: relay, backend: backend, doorbell: doorbell,
        tail: execution.map { RunTail(workDirectory: $0.workDirectory) })
        .addRoutes(to: SimforgeHTTP.publicRoutes(on: router))
    AgentEventController(repository: repository, relay: relay)
        .addRoutes(to: router.group("/internal/jobs/{jobId}").add(middleware: JobTokenMiddleware(secret: configuration.internalToken)))

    return SimforgeHTTP.makeApplication(
        name: "jobs", router: router, http: configuration.http, postgres: postgres, migrations: JobsMigrations.runner,
        services: services, logger: logger, serving: { host, port in launch?.serving(host: host, port: port) })
}
