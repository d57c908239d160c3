import SimforgeServer

@main
struct CatalogApp {
    static func main() async {
        await ServiceMain.run("catalog") { environment, logger, registry in
            try await buildApplication(configuration: try CatalogConfiguration(environment: environment), logger: logger, registry: registry)
        }
    }
}
