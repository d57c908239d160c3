import SimforgeServer

/// Everything the files service reads from its environment, read once at start.
struct FilesConfiguration: Sendable {
    var http: HTTPServerConfiguration
    var postgres: PostgresSettings
    /// `FILES_STORAGE_DIR`: where encrypted blobs live.
    var storageDirectory: String
    /// `FILES_MASTER_KEYS`: `id:base64key,...`, newest first.
    var keyring: MasterKeyring
    /// `FILES_MAX_UPLOAD_BYTES` (default 100 GiB).
    var maxUploadBytes: Int64
    /// `INTERNAL_TOKEN`.
    var internalToken: String
    /// `FILES_UPLOAD_EXPIRY_SECONDS` (default a day): how long a resumable upload may stay unfinished.
    var uploadExpiry: Duration
    /// `GATEWAY_SECRET` and `PUBLIC_URL`: how it faces clients through the gateway.
    var publicAPI: PublicAPISettings
    /// `JOBS_URL`: the jobs service's internal base URL, a comma-separated list with several
    /// replicas (whether a job or run exists).
    var jobsURL: String

    init(http: HTTPServerConfiguration, postgres: PostgresSettings, storageDirectory: String, keyring: MasterKeyring,
         maxUploadBytes: Int64, internalToken: String, publicAPI: PublicAPISettings, jobsURL: String,
         uploadExpiry: Duration = .seconds(86400)) {
        self.http = http
        self.postgres = postgres
        self.storageDirectory = storageDirectory
        self.keyring = keyring
        self.maxUploadBytes = maxUploadBytes
        self.internalToken = internalToken
        self.uploadExpiry = uploadExpiry
        self.publicAPI = publicAPI
        self.jobsURL = jobsURL
    }

    init(environment: EnvironmentReader) throws {
        self.http = try HTTPServerConfiguration(environment: environment, defaultPort: 8081)
        self.postgres = try PostgresSettings(environment: environment)
        self.storageDirectory = try environment.require("FILES_STORAGE_DIR")
        self.keyring = try MasterKeyring(spec: try environment.require("FILES_MASTER_KEYS"))
        self.maxUploadBytes = Int64(try environment.int("FILES_MAX_UPLOAD_BYTES", default: 100 * 1024 * 1024 * 1024, range: 0...Int.max))
        self.internalToken = try environment.require("INTERNAL_TOKEN")
        self.uploadExpiry = .seconds(try environment.int("FILES_UPLOAD_EXPIRY_SECONDS", default: 86400, range: 1...Int(Int32.max)))
        self.publicAPI = try PublicAPISettings(environment: environment)
        self.jobsURL = try environment.requireServiceURLs("JOBS_URL")
    }
}
