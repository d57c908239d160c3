import Hummingbird
import PostgresNIO
import Prometheus

/// `/health` (the process answers), `/ready` (its database answers) and `/metrics`
/// (Prometheus text), outside the public prefix. Kong never routes them.
public struct OperationalRoutes<Context: RequestContext>: Sendable {
    private let postgres: PostgresClient?
    private let registry: PrometheusCollectorRegistry

    /// - Parameters:
    ///   - postgres: the database `/ready` checks; `nil` for a process without one.
    ///   - registry: the registry the process bootstrapped `MetricsSystem` with.
    public init(postgres: PostgresClient?, registry: PrometheusCollectorRegistry) {
        self.postgres = postgres
        self.registry = registry
    }

    public func register(on router: Router<Context>) {
        router.get("/health") { _, _ in
            Self.json(status: .ok, #"{"status":"ok"}"#)
        }
        router.get("/ready") { _, context in
            guard let postgres = self.postgres else { return Self.json(status: .ok, #"{"status":"ready"}"#) }
            do {
                try await postgres.checkConnectivity(timeout: .seconds(2), logger: context.logger)
                return Self.json(status: .ok, #"{"status":"ready"}"#)
            } catch {
                context.logger.warning("not ready", metadata: ["error": "\(String(reflecting: error))"])
                return Self.json(status: .serviceUnavailable, #"{"detail":"Database unavailable."}"#)
            }
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: self.registry.emitToBuffer())))
        }
    }

    private static func json(status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = Response.jsonContentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
