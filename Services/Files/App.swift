import Foundation
import Logging
import Metrics
import Prometheus
import SimforgeServer

@main
struct FilesApp {
    static func main() async {
        AllocatorTuning.keepLargeBuffersInHeap()
        do {
            let environment = EnvironmentReader()
            let logger = try Logger.simforgeRoot(label: "files", environment: environment)
            let configuration = try FilesConfiguration(environment: environment)
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let app = try await buildApplication(configuration: configuration, logger: logger, registry: registry)
            try await app.runService()
        } catch {
            FileHandle.standardError.write(Data("files: \(error)\n".utf8))
            exit(1)
        }
    }
}
