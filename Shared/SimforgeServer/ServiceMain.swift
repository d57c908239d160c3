import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import SimforgeProcess

/// The `main` of every Simforge service: tunes the allocator, forbids inspection by other
/// processes, makes the root logger (`LOG_LEVEL`), bootstraps Prometheus metrics, builds
/// the application from the environment and runs it until SIGTERM/SIGINT. A bad configuration or a failed start
/// ends the process with a one-line message and status 1.
public enum ServiceMain {
    public static func run<App: ApplicationProtocol>(
        _ name: String,
        build: @Sendable (EnvironmentReader, Logger, PrometheusCollectorRegistry) async throws -> App
    ) async {
        AllocatorTuning.keepLargeBuffersInHeap()
        // Services hold secrets (database password, internal token, master keys) and the
        // jobs service starts agents: nothing of the same user may read them out of /proc.
        ProcessHardening.forbidInspection()
        do {
            let environment = EnvironmentReader()
            LoggingSystem.bootstrap { label in SimforgeLogHandler(label: label) }
            let logger = try Logger.simforgeRoot(label: name, environment: environment)
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let app = try await build(environment, logger, registry)
            try await app.runService()
        } catch {
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            exit(1)
        }
    }
}
