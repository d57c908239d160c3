import AsyncHTTPClient
import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import SimforgeFailover
import SimforgeServer

/// The files service: at start it checks the database, migrates and prepares the
/// storage directory before serving.
func buildApplication(
    configuration: FilesConfiguration,
    logger: Logger,
    registry: PrometheusCollectorRegistry
) async throws -> some ApplicationProtocol {
    let postgres = configuration.postgres.makeClient(logger: logger)
    let repository = FilePostgresRepository(client: postgres)
    let store = BlobStore(root: configuration.storageDirectory)
    let staging = UploadStaging(root: store.root)
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .simforgeInternal(connect: .seconds(2), read: .seconds(30)))
    let jobs = try InternalClient(baseURLs: configuration.jobsURL, token: configuration.internalToken, client: http)
    let router = buildRouter(
        repository: repository, store: store, staging: staging, jobs: jobs, configuration: configuration, postgres: postgres, registry: registry)
    let sweeper = ExpiredUploadSweeper(
        repository: repository, staging: staging, interval: min(.seconds(60), configuration.uploadExpiry), logger: logger)
    return SimforgeHTTP.makeApplication(
        name: "files", router: router, http: configuration.http, postgres: postgres, migrations: FilesMigrations.runner,
        services: [HTTPClientService(client: http), sweeper], logger: logger
    ) {
        try await store.prepare()
        try await staging.prepare()
    }
}

func buildRouter(
    repository: some FileRepository,
    store: BlobStore,
    staging: UploadStaging,
    jobs: InternalClient,
    configuration: FilesConfiguration,
    postgres: PostgresClient,
    registry: PrometheusCollectorRegistry
) -> Router<SimforgeRequestContext> {
    let router = SimforgeHTTP.makeRouter(publicOrigins: configuration.publicAPI.publicOrigins)
    OperationalRoutes(postgres: postgres, registry: registry).register(on: router)

    let api = SimforgeHTTP.publicRoutes(on: router, gatewaySecret: configuration.publicAPI.gatewaySecret)
    UploadController(repository: repository, store: store, keyring: configuration.keyring, maxUploadBytes: configuration.maxUploadBytes)
        .addRoutes(to: api)
    FileController(repository: repository, store: store, keyring: configuration.keyring).addRoutes(to: api)
    TusController(
        repository: repository, store: store, staging: staging, keyring: configuration.keyring,
        maxUploadBytes: configuration.maxUploadBytes, expiry: configuration.uploadExpiry, leases: UploadLease(repository: repository)
    ).addRoutes(to: api)
    JobFilesController(repository: repository, jobs: jobs).addRoutes(to: api)

    let internalRoutes = router.group("/internal")
    KeyRotationController(repository: repository, keyring: configuration.keyring)
        .addRoutes(to: internalRoutes.group().add(middleware: InternalTokenMiddleware(token: configuration.internalToken)))
    InternalFilesController(repository: repository, store: store, keyring: configuration.keyring, maxUploadBytes: configuration.maxUploadBytes)
        .addRoutes(to: internalRoutes.group("/jobs/{jobId}").add(middleware: JobTokenMiddleware(secret: configuration.internalToken)))
    return router
}
