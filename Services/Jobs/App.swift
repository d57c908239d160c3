import SimforgeServer

@main
struct JobsApp {
    static func main() async {
        await ServiceMain.run("jobs") { environment, logger, registry in
            try await buildApplication(configuration: try JobsConfiguration(environment: environment), logger: logger, registry: registry)
        }
    }
}
