import Foundation
import Logging
import SimforgeServer

/// Kong's policy from kong.yml, for machines without Docker. See README "Gateway".
@main
struct DevGatewayApp {
    static func main() async {
        AllocatorTuning.keepLargeBuffersInHeap()
        do {
            let environment = EnvironmentReader()
            let logger = try Logger.simforgeRoot(label: "dev-gateway", environment: environment)
            let configuration = try GatewayConfiguration(environment: environment)
            let app = try buildApplication(configuration: configuration, logger: logger)
            try await app.runService()
        } catch {
            FileHandle.standardError.write(Data("dev-gateway: \(error)\n".utf8))
            exit(1)
        }
    }
}
