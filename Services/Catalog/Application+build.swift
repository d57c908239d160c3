import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import SimforgeServer

/// The catalog service: reads the catalog file (failing fast on a bad one), then at start
/// checks the database, migrates, and applies the file before serving.
func buildApplication(
    configuration: CatalogConfiguration,
    logger: Logger,
    registry: PrometheusCollectorRegistry
) async throws -> some ApplicationProtocol {
    let definition = try CatalogDefinition.load(path: configuration.catalogFile)
    let postgres = configuration.postgres.makeClient(logger: logger)
    let repository = CatalogPostgresRepository(client: postgres)
    let router = buildRouter(repository: repository, configuration: configuration, postgres: postgres, registry: registry)
    return SimforgeHTTP.makeApplication(
        name: "catalog", router: router, http: configuration.http, postgres: postgres, migrations: CatalogMigrations.runner,
        logger: logger
    ) {
        try await repository.apply(definition, logger: logger)
        logger.info("catalog applied", metadata: [
            "catalog.analyses": "\(definition.analyses.count)", "catalog.core_types": "\(definition.coreTypes.count)",
        ])
    }
}

func buildRouter(
    repository: some CatalogRepository,
    configuration: CatalogConfiguration,
    postgres: PostgresClient,
    registry: PrometheusCollectorRegistry
) -> Router<SimforgeRequestContext> {
    let router = SimforgeHTTP.makeRouter(publicOrigins: configuration.publicAPI.publicOrigins)
    OperationalRoutes(postgres: postgres, registry: registry).register(on: router)

    let api = SimforgeHTTP.publicRoutes(on: router, gatewaySecret: configuration.publicAPI.gatewaySecret)
    APIRootController().addRoutes(to: api)
    AnalysisController(repository: repository).addRoutes(to: api)
    CoreTypeController(repository: repository).addRoutes(to: api)

    let internalRoutes = router.group("/internal").add(middleware: InternalTokenMiddleware(token: configuration.internalToken))
    InternalCatalogController(repository: repository).addRoutes(to: internalRoutes)
    // A job's agent, with its job token, resolves its analysis version's environment.
    InternalCatalogController(repository: repository).addRoutes(
        to: router.group("/internal/jobs/{jobId}").add(middleware: JobTokenMiddleware(secret: configuration.internalToken)))
    return router
}
