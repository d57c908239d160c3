import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import HummingbirdCore


/// The HTTP plumbing every Simforge service shares.
public enum SimforgeHTTP {
    /// A router with the standard middleware, outermost first: request id, error
    /// rendering, metrics, the request's public origin. Add routes after this.
    public static func makeRouter(publicOrigins: PublicOrigins) -> Router<SimforgeRequestContext> {
        let router = Router(context: SimforgeRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: PublicOriginMiddleware(origins: publicOrigins))
        return router
    }

    /// Call once every route is added: a known path asked with a method it does not serve
    /// becomes 405 with `Allow`, instead of 404.
    public static func answerUnservedMethods(on router: Router<SimforgeRequestContext>) {
        router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes.map { ($0.path, $0.method) }))
    }

    /// HTTP/1.1 that answers `Expect: 100-continue` at once and ends slow clients'
    /// requests (``RequestTimeoutHandler``, with `http`'s timeouts).
    public static func server(_ http: HTTPServerConfiguration) -> HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [
            ExpectContinueHandler(),
            RequestTimeoutHandler(headerTimeout: http.headerTimeout, bodyIdleTimeout: http.bodyIdleTimeout),
        ]))
    }

    /// The public route group `/{userId}/api/v2`, with the consumer check.
    public static func publicRoutes(on router: Router<SimforgeRequestContext>, gatewaySecret: String) -> RouterGroup<SimforgeRequestContext> {
        router.group("/{userId}/api/v2").add(middleware: ConsumerAuthMiddleware(gatewaySecret: gatewaySecret))
    }

    /// A service's application: HTTP/1.1 on `http`, PostgreSQL (and `services`) run beside
    /// the server; before serving, the database must answer and `migrations` are applied,
    /// then `prepare` runs; `serving` learns the address once the server listens.
    /// `services` start only once the schema is migrated and `prepare` is done.
    public static func makeApplication(
        name: String,
        router: Router<SimforgeRequestContext>,
        http: HTTPServerConfiguration,
        postgres: PostgresClient,
        migrations: MigrationRunner,
        services: [any Service] = [],
        logger: Logger,
        prepare: @escaping @Sendable () async throws -> Void = {},
        serving: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
    ) -> some ApplicationProtocol {
        Self.answerUnservedMethods(on: router)
        let prepared = StartGate()
        var app = Application(
            router: router,
            server: Self.server(http),
            configuration: .init(address: .hostname(http.host, port: http.port), serverName: name),
            services: [postgres] + services.map { GatedService(gate: prepared, service: $0) },
            onServerRunning: { channel in
                guard let address = channel.localAddress, let ip = address.ipAddress, let port = address.port else { return }
                let host = ip == "0.0.0.0" ? "127.0.0.1" : ip == "::" ? "[::1]" : ip.contains(":") ? "[\(ip)]" : ip
                await serving(host, port)
            },
            logger: logger
        )
        app.beforeServerStarts {
            try await postgres.checkConnectivity(logger: logger)
            try await migrations.run(on: postgres, logger: logger)
            try await prepare()
            await prepared.open()
        }
        return app
    }
}

/// Opens once: background services wait for it.
actor StartGate {
    private(set) var isOpen = false

    func open() {
        self.isOpen = true
    }
}

/// A background service that starts once its gate opens (or never, on shutdown before).
struct GatedService: Service {
    let gate: StartGate
    let service: any Service

    func run() async throws {
        while await !self.gate.isOpen {
            guard !Task.isShuttingDownGracefully else { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await self.service.run()
    }
}
