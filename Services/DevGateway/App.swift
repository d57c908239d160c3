import SimforgeServer

/// Kong's policy from kong.yml, for machines without Docker. See README "Configuration".
@main
struct DevGatewayApp {
    static func main() async {
        await ServiceMain.run("dev-gateway") { environment, logger, _ in
            try buildApplication(configuration: try GatewayConfiguration(environment: environment), logger: logger)
        }
    }
}
