import SimforgeServer

@main
struct StatusApp {
    static func main() async {
        await ServiceMain.run("status") { environment, logger, registry in
            try await buildApplication(configuration: try StatusConfiguration(environment: environment), logger: logger, registry: registry)
        }
    }
}
