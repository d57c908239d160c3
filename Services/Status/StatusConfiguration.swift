import SimforgeServer

/// Everything the status service reads from its environment, read once at start.
struct StatusConfiguration: Sendable {
    var http: HTTPServerConfiguration
    var postgres: PostgresSettings
    /// `INTERNAL_TOKEN`: what `/internal/...` callers (the jobs service) must present.
    var internalToken: String
    /// `READ_CACHE_ENTRIES` (10 000): how many jobs' histories `GET jobs/{id}/statuses/`
    /// keeps in memory (0: none).
    var readCacheEntries: Int
    /// `GATEWAY_SECRET` and `PUBLIC_URL`: how it faces clients through the gateway.
    var publicAPI: PublicAPISettings

    init(http: HTTPServerConfiguration, postgres: PostgresSettings, internalToken: String, publicAPI: PublicAPISettings,
         readCacheEntries: Int = ReadCacheSettings.defaultEntries) {
        self.http = http
        self.postgres = postgres
        self.internalToken = internalToken
        self.readCacheEntries = readCacheEntries
        self.publicAPI = publicAPI
    }

    init(environment: EnvironmentReader) throws {
        self.http = try HTTPServerConfiguration(environment: environment, defaultPort: 8084)
        self.postgres = try PostgresSettings(environment: environment)
        self.internalToken = try environment.require("INTERNAL_TOKEN")
        self.readCacheEntries = try ReadCacheSettings.entries(environment)
        self.publicAPI = try PublicAPISettings(environment: environment)
    }
}
