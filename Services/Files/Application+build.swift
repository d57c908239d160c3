import Hummingbird
import Logging
import PostgresNIO
import Prometheus
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
    let router = buildRouter(repository: repository, store: store, staging: staging, configuration: configuration, postgres: postgres, registry: registry)
    let sweeper = ExpiredUploadSweeper(
        repository: repository, staging: staging, interval: min(.seconds(60), configuration.uploadExpiry), logger: logger)
    return SimforgeHTTP.makeApplication(
        name: "files", router: router, http: configuration.http, postgres: postgres, migrations: FilesMigrations.runner,
        services: [sweeper], logger: logger
    ) {
        try await store.prepare()
        try await staging.prepare()
    }
}

func buildRouter(
    repository: some FileRepository,
    store: BlobStore,
    staging: UploadStaging,
    configuration: FilesConfiguration,
    postgres: PostgresClient,
    registry: PrometheusCollectorRegistry
) -> Router<SimforgeRequestContext> {
    let router = SimforgeHTTP.makeRouter()
    OperationalRoutes(postgres: postgres, registry: registry).register(on: router)

    let api = SimforgeHTTP.publicRoutes(on: router)
    UploadController(repository: repository, store: store, keyring: configuration.keyring, maxUploadBytes: configuration.maxUploadBytes)
        .addRoutes(to: api)
    FileController(repository: repository, store: store, keyring: configuration.keyring).addRoutes(to: api)
    TusController(
        repository: repository, store: store, staging: staging, keyring: configuration.keyring,
        maxUploadBytes: configuration.maxUploadBytes, expiry: configuration.uploadExpiry, locks: UploadLocks()
    ).addRoutes(to: api)
    JobFilesController(repository: repository).addRoutes(to: api)

    let internalRoutes = router.group("/internal")
    KeyRotationController(repository: repository, keyring: configuration.keyring)
        .addRoutes(to: internalRoutes.group().add(middleware: InternalTokenMiddleware(token: configuration.internalToken)))
    InternalFilesController(repository: repository, store: store, keyring: configuration.keyring, maxUploadBytes: configuration.maxUploadBytes)
        .addRoutes(to: internalRoutes.group("/jobs/{jobId}").add(middleware: JobTokenMiddleware(secret: configuration.internalToken)))
    return router
}
