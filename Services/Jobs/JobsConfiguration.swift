import SimforgeServer

/// Everything the jobs service reads from its environment, read once at start.
struct JobsConfiguration: Sendable {
    var http: HTTPServerConfiguration
    var postgres: PostgresSettings
    /// `INTERNAL_TOKEN`: presented to catalog, files and status; also the secret of job tokens.
    var internalToken: String
    /// `CATALOG_URL`, `FILES_URL`, `STATUS_URL`: the services' internal base URLs.
    var catalogURL: String
    var filesURL: String
    var statusURL: String
    /// `JOBS_DEFAULT_WALLTIME_HOURS` (48).
    var defaultWalltimeHours: Int

    init(http: HTTPServerConfiguration, postgres: PostgresSettings, internalToken: String, catalogURL: String, filesURL: String,
         statusURL: String, defaultWalltimeHours: Int = 48) {
        self.http = http
        self.postgres = postgres
        self.internalToken = internalToken
        self.catalogURL = catalogURL
        self.filesURL = filesURL
        self.statusURL = statusURL
        self.defaultWalltimeHours = defaultWalltimeHours
    }

    init(environment: EnvironmentReader) throws {
        self.http = try HTTPServerConfiguration(environment: environment, defaultPort: 8083)
        self.postgres = try PostgresSettings(environment: environment)
        self.internalToken = try environment.require("INTERNAL_TOKEN")
        self.catalogURL = try environment.require("CATALOG_URL")
        self.filesURL = try environment.require("FILES_URL")
        self.statusURL = try environment.require("STATUS_URL")
        self.defaultWalltimeHours = try environment.int("JOBS_DEFAULT_WALLTIME_HOURS", default: 48, range: 1...8760)
    }
}
