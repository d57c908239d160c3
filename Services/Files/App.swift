import SimforgeServer

@main
struct FilesApp {
    static func main() async {
        await ServiceMain.run("files") { environment, logger, registry in
            try await buildApplication(configuration: try FilesConfiguration(environment: environment), logger: logger, registry: registry)
        }
    }
}
