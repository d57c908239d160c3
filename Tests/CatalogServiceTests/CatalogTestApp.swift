import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import SimforgeServer
import SimforgeTestSupport
@testable import CatalogService

/// Builds the real catalog service on a fresh database and runs it on a loopback port.
enum CatalogTestApp {
    static let internalToken = "test-internal-token"
    /// What `/metrics` serves; the process-wide `MetricsSystem` is left alone in tests.
    static let registry = PrometheusCollectorRegistry()

    static func configuration(postgres: PostgresSettings, catalogFile: String = RepositoryPaths.file("deploy/catalog.yml")) -> CatalogConfiguration {
        CatalogConfiguration(
            http: HTTPServerConfiguration(host: "127.0.0.1", port: 0),
            postgres: postgres,
            catalogFile: catalogFile,
            internalToken: internalToken,
            publicAPI: TestGateway.publicAPI)
    }

    /// Runs `body` against a live catalog service with its own database.
    static func withLiveService(
        catalogFile: String = RepositoryPaths.file("deploy/catalog.yml"),
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            let app = try await buildApplication(
                configuration: configuration(postgres: settings, catalogFile: catalogFile),
                logger: Logger(label: "catalog-test"), registry: registry)
            try await app.test(.live, body)
        }
    }

    static let alice: HTTPFields = TestGateway.headers(for: "alice")
}
