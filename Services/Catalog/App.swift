import Foundation
import Logging
import Metrics
import Prometheus
import SimforgeServer

@main
struct CatalogApp {
    static func main() async {
        AllocatorTuning.keepLargeBuffersInHeap()
        do {
            let environment = EnvironmentReader()
            let logger = try Logger.simforgeRoot(label: "catalog", environment: environment)
            let configuration = try CatalogConfiguration(environment: environment)
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let app = try await buildApplication(configuration: configuration, logger: logger, registry: registry)
            try await app.runService()
        } catch {
            FileHandle.standardError.write(Data("catalog: \(error)\n".utf8))
            exit(1)
        }
    }
}
