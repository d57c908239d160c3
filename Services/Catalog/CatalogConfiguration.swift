import SimforgeServer

/// Everything the catalog service reads from its environment, read once at start.
struct CatalogConfiguration: Sendable {
    var http: HTTPServerConfiguration
    var postgres: PostgresSettings
    /// `CATALOG_FILE`: the catalog content applied at start (default `deploy/catalog.yml`).
    var catalogFile: String
    /// `INTERNAL_TOKEN`: what `/internal/...` callers must present.
    var internalToken: String
    /// `GATEWAY_SECRET` and `PUBLIC_URL`: how it faces clients through the gateway.
    var publicAPI: PublicAPISettings

    init(http: HTTPServerConfiguration, postgres: PostgresSettings, catalogFile: String, internalToken: String,
         publicAPI: PublicAPISettings) {
        self.http = http
        self.postgres = postgres
        self.catalogFile = catalogFile
        self.internalToken = internalToken
        self.publicAPI = publicAPI
    }

    init(environment: EnvironmentReader) throws {
        self.http = try HTTPServerConfiguration(environment: environment, defaultPort: 8082)
        self.postgres = try PostgresSettings(environment: environment)
        self.catalogFile = environment.string("CATALOG_FILE", default: "deploy/catalog.yml")
        self.internalToken = try environment.require("INTERNAL_TOKEN")
        self.publicAPI = try PublicAPISettings(environment: environment)
    }
}
