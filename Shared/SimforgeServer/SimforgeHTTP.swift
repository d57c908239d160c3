import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import HummingbirdCore


/// The HTTP plumbing every Simforge service shares.
public enum SimforgeHTTP {
    /// A router with the standard middleware, outermost first: request id, error
    /// rendering, metrics. Add routes after this.
    public static func makeRouter() -> Router<SimforgeRequestContext> {
        let router = Router(context: SimforgeRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        return router
    }

    /// HTTP/1.1 that answers `Expect: 100-continue` at once.
    public static var server: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()]))
    }

    /// The public route group `/{userId}/api/v2`, with the consumer check.
    public static func publicRoutes(on router: Router<SimforgeRequestContext>) -> RouterGroup<SimforgeRequestContext> {
        router.group("/{userId}/api/v2").add(middleware: ConsumerAuthMiddleware())
    }

    /// A service's application: HTTP/1.1 on `http`, PostgreSQL (and `services`) run beside
    /// the server; before serving, the database must answer and `migrations` are applied,
    /// then `prepare` runs.
    public static func makeApplication(
        name: String,
        router: Router<SimforgeRequestContext>,
        http: HTTPServerConfiguration,
        postgres: PostgresClient,
        migrations: MigrationRunner,
        services: [any Service] = [],
        logger: Logger,
        prepare: @escaping @Sendable () async throws -> Void = {}
    ) -> some ApplicationProtocol {
        var app = Application(
            router: router,
            server: Self.server,
            configuration: .init(address: .hostname(http.host, port: http.port), serverName: name),
            services: [postgres] + services,
            logger: logger
        )
        app.beforeServerStarts {
            try await postgres.checkConnectivity(logger: logger)
            try await migrations.run(on: postgres, logger: logger)
            try await prepare()
        }
        return app
    }
}
