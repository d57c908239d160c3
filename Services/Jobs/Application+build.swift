import AsyncHTTPClient
import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import SimforgeFailover
import SimforgeServer

/// The jobs service: checks the database and migrates at start; relays the outbox to the
/// status service and dispatches submitted runs to the compute backend for as long as it runs.
/// - Parameter backend: replaces the configured compute backend (tests).
func buildApplication(
    configuration: JobsConfiguration,
    logger: Logger,
    registry: PrometheusCollectorRegistry,
    backend: (any ComputeBackend)? = nil
) async throws -> some ApplicationProtocol {
    let execution = configuration.execution
    let launch = execution.map { AgentLaunch(execution: $0, filesURL: configuration.filesURL, catalogURL: configuration.catalogURL) }
    var services: [any Service] = []
    var backend = backend
    if backend == nil, let execution, let launch {
        switch execution.backend {
        case .local(let cores):
            let local = LocalBackend(launch: launch, cores: cores, logger: logger)
            services.append(LocalBackendService(backend: local))
            backend = local
        case .slurm(let partition):
            backend = SlurmBackend(launch: launch, partition: partition)
        }
    }
    // Held for as long as the service runs: the notification listener's connection, and
    // with a backend the dispatchers' leader lease.
    let postgres = configuration.postgres.makeClient(logger: logger, longHeld: backend == nil ? 1 : 2)
    let repository = JobPostgresRepository(client: postgres, cachedSpecs: configuration.readCacheEntries)
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .simforgeInternal(connect: .seconds(2), read: .seconds(30)))
    let client = { (urls: String) throws in try InternalClient(baseURLs: urls, token: configuration.internalToken, client: http) }
    let relay = OutboxRelay(repository: repository, status: try client(configuration.statusURL), logger: logger)
    let lifecycle = JobLifecycle(repository: repository, relay: relay)
    services += [HTTPClientService(client: http), OutboxRelayService(relay: relay)]

    // Jobs changed or deleted through other replicas leave this one's read cache.
    var channels = [
        NotificationListener.Channel(
            JobSpecChannel.name, listening: { repository.invalidateCachedSpecs() }, received: { id in repository.invalidateCachedSpecs(id: id) }),
    ]
    if let backend {
        // Runs changed through any replica wake the one that leads the dispatchers.
        let doorbell = Doorbell()
        channels.append(NotificationListener.Channel(DispatchChannel.name, listening: { await doorbell.ring() }, received: { _ in await doorbell.ring() }))
        services.append(Dispatcher(
            repository: repository, lifecycle: lifecycle, backend: backend,
            lease: LeaderLease(client: postgres, key: JobsLocks.dispatcher, logger: logger), doorbell: doorbell,
            tokenSecret: configuration.internalToken, walltimeLimitSeconds: execution?.walltimeLimitSeconds,
            heartbeatTimeout: .seconds(execution?.heartbeatTimeoutSeconds ?? 60),
            reconcileInterval: .seconds(execution?.reconcileSeconds ?? 10), logger: logger))
    }
    services.append(NotificationListener(client: postgres, channels: channels, logger: logger))
    let validator = JobValidator(
        catalog: try client(configuration.catalogURL), files: try client(configuration.filesURL), backend: backend,
        jobTokenSecret: configuration.internalToken, defaultWalltimeHours: configuration.defaultWalltimeHours)

    let router = SimforgeHTTP.makeRouter(publicOrigins: configuration.publicAPI.publicOrigins)
    OperationalRoutes(postgres: postgres, registry: registry).register(on: router)
    let api = SimforgeHTTP.publicRoutes(on: router, gatewaySecret: configuration.publicAPI.gatewaySecret)
    JobController(
        repository: repository, validator: validator,
        planner: RunPlanner(files: try client(configuration.filesURL), tokenSecret: configuration.internalToken, maxRuns: configuration.maxRuns),
        lifecycle: lifecycle, relay: relay
    ).addRoutes(to: api)
    RunController(
        repository: repository, lifecycle: lifecycle,
        workspaces: execution.map { RunWorkspaces(workDirectory: $0.workDirectory) }
    ).addRoutes(to: api)
    InternalJobsController(repository: repository)
        .addRoutes(to: router.group("/internal").add(middleware: InternalTokenMiddleware(token: configuration.internalToken)))
    AgentEventController(repository: repository, lifecycle: lifecycle)
        .addRoutes(to: router.group("/internal/jobs/{jobId}").add(middleware: JobTokenMiddleware(secret: configuration.internalToken)))

    return SimforgeHTTP.makeApplication(
        name: "jobs", router: router, http: configuration.http, postgres: postgres, migrations: JobsMigrations.runner,
        services: services, logger: logger, serving: { host, port in launch?.serving(host: host, port: port) })
}
