import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import SimforgeServer

/// The status service: checks the database and migrates at start; listens for new
/// statuses (LISTEN/NOTIFY) for as long as it runs.
func buildApplication(
    configuration: StatusConfiguration,
    logger: Logger,
    registry: PrometheusCollectorRegistry
) async throws -> some ApplicationProtocol {
    // The notification listener holds one connection.
    let postgres = configuration.postgres.makeClient(logger: logger, longHeld: 1)
    let repository = StatusPostgresRepository(client: postgres, cachedHistories: configuration.readCacheEntries)
    let broker = StatusBroker()
    let router = SimforgeHTTP.makeRouter(publicOrigins: configuration.publicAPI.publicOrigins)
    OperationalRoutes(postgres: postgres, registry: registry).register(on: router)
    StatusController(repository: repository, broker: broker).addRoutes(to: SimforgeHTTP.publicRoutes(on: router, gatewaySecret: configuration.publicAPI.gatewaySecret))
    InternalStatusController(repository: repository)
        .addRoutes(to: router.group("/internal").add(middleware: InternalTokenMiddleware(token: configuration.internalToken)))

    return SimforgeHTTP.makeApplication(
        name: "status", router: router, http: configuration.http, postgres: postgres, migrations: StatusMigrations.runner,
        services: [
            // New statuses from any replica drop the job's cached history and wake the owner's long-polls.
            NotificationListener(
                client: postgres, channel: StatusChannel.name, logger: logger,
                listening: { repository.invalidateCachedHistories() },
                received: { payload in
                    guard let (jobId, owner) = StatusChannel.parse(payload) else { return }
                    repository.invalidateCachedHistories(jobId: jobId)
                    await broker.announce(owner: owner)
                }),
        ], logger: logger)
}
