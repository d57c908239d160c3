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
    let router = buildRouter(repository: repository, store: store, configuration: configuration, postgres: postgres, registry: registry)
    var app = Application(
        router: router,
        server: SimforgeHTTP.server,
        configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port), serverName: "files"),
        services: [postgres],
        logger: logger
    )
    app.beforeServerStarts {
        try await postgres.checkConnectivity(logger: logger)
        try await FilesMigrations.runner.run(on: postgres, logger: logger)
        try await store.prepare()
    }
    return app
}

func buildRouter(
    repository: some FileRepository,
    store: BlobStore,
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
    return router
}
