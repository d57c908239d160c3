import Foundation
import SimforgeServer

/// Everything the jobs service reads from its environment, read once at start.
struct JobsConfiguration: Sendable {
    var http: HTTPServerConfiguration
    var postgres: PostgresSettings
    /// `INTERNAL_TOKEN`: presented to catalog, files and status; also the secret of job tokens.
    var internalToken: String
    /// `CATALOG_URL`, `FILES_URL`, `STATUS_URL`: the services' internal base URLs, each a
    /// comma-separated list when the service runs as several replicas (agents use the first
    /// two as well).
    var catalogURL: String
    var filesURL: String
    var statusURL: String
    /// `JOBS_DEFAULT_WALLTIME_HOURS` (48).
    var defaultWalltimeHours: Int
    /// Where submitted jobs run; `nil` (`JOBS_BACKEND=none`): they wait `Pending`.
    var execution: Execution?
    /// `READ_CACHE_ENTRIES` (10 000): how many job specs `GET jobs/{id}/` keeps in memory (0: none).
    var readCacheEntries: Int
    /// `JOBS_MAX_RUNS` (10 000): the most runs one job (a DOE) may have.
    var maxRuns: Int = 10_000
    /// `GATEWAY_SECRET` and `PUBLIC_URL`: how it faces clients through the gateway.
    var publicAPI: PublicAPISettings

    /// How jobs are executed.
    struct Execution: Sendable {
        enum Backend: Sendable, Equatable {
            /// `JOBS_BACKEND=local` (the default): runs use at most `JOBS_LOCAL_CORES` cores at a time
            /// (the machine's).
            case local(cores: Int)
            /// `JOBS_BACKEND=slurm`; `JOBS_SLURM_PARTITION` (the cluster's default).
            case slurm(partition: String?)
        }

        var backend: Backend
        /// `JOBS_AGENT_PATH`: the `simforge-agent` executable (default: next to this one).
        var agentPath: String
        /// `JOBS_WORK_DIR` (`/var/lib/simforge/work`): where the jobs' working directories
        /// are made; on Slurm, a directory every node sees at the same path.
        var workDirectory: String
        /// `JOBS_URL`: how agents reach this service; with several replicas, all of them,
        /// comma-separated (default: this replica's own listening address).
        var jobsURL: String?
        /// `JOBS_AGENT_FILES_URL`, `JOBS_AGENT_CATALOG_URL`: how agents reach files and catalog,
        /// lists like `FILES_URL` (default `FILES_URL`, `CATALOG_URL`; set them when agents run
        /// on other hosts).
        var agentFilesURL: String?
        var agentCatalogURL: String?
        /// `JOBS_RUN_AS`: an unprivileged user the commands run as (default: the agent's user).
        var runAs: String?
        /// `JOBS_HEARTBEAT_SECONDS` (10) and `JOBS_HEARTBEAT_TIMEOUT_SECONDS` (60): agents report
        /// that often; a running job not heard of for the timeout ends as lost.
        var heartbeatSeconds: Int = 10
        var heartbeatTimeoutSeconds: Int = 60
        /// `JOBS_RECONCILE_SECONDS` (10): how often the backend is asked about queued jobs.
        var reconcileSeconds: Int = 10
        /// `JOBS_STOP_GRACE_SECONDS` (10): between TERM and KILL when a command is stopped.
        var stopGraceSeconds: Int = 10
        /// `JOBS_WALLTIME_LIMIT_SECONDS`: the site's cap on any job's walltime (none).
        var walltimeLimitSeconds: Int?
        /// `JOBS_MAX_UNPACKED_BYTES` (100 GiB): the most a run's archives may unpack to (never
        /// more than its disk has free).
        var maxUnpackedBytes: Int64 = 100 << 30

        /// The agent built beside this executable.
        static var defaultAgentPath: String {
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
                .appendingPathComponent("simforge-agent").path
        }
    }

    init(http: HTTPServerConfiguration, postgres: PostgresSettings, internalToken: String, publicAPI: PublicAPISettings,
         catalogURL: String, filesURL: String, statusURL: String, defaultWalltimeHours: Int = 48, execution: Execution? = nil,
         readCacheEntries: Int = ReadCacheSettings.defaultEntries) {
        self.http = http
        self.postgres = postgres
        self.internalToken = internalToken
        self.catalogURL = catalogURL
        self.filesURL = filesURL
        self.statusURL = statusURL
        self.defaultWalltimeHours = defaultWalltimeHours
        self.execution = execution
        self.readCacheEntries = readCacheEntries
        self.publicAPI = publicAPI
    }

    init(environment: EnvironmentReader) throws {
        self.http = try HTTPServerConfiguration(environment: environment, defaultPort: 8083)
        self.postgres = try PostgresSettings(environment: environment)
        self.internalToken = try environment.require("INTERNAL_TOKEN")
        self.publicAPI = try PublicAPISettings(environment: environment)
        self.catalogURL = try environment.requireServiceURLs("CATALOG_URL")
        self.filesURL = try environment.requireServiceURLs("FILES_URL")
        self.statusURL = try environment.requireServiceURLs("STATUS_URL")
        self.defaultWalltimeHours = try environment.int("JOBS_DEFAULT_WALLTIME_HOURS", default: 48, range: 1...8760)
        self.readCacheEntries = try ReadCacheSettings.entries(environment)
        self.maxRuns = try environment.int("JOBS_MAX_RUNS", default: 10_000, range: 1...100_000)

        let backend: Execution.Backend
        switch environment.string("JOBS_BACKEND", default: "local") {
        case "none":
            self.execution = nil
            return
        case "local":
            let cores = ProcessInfo.processInfo.activeProcessorCount
            backend = .local(cores: try environment.int("JOBS_LOCAL_CORES", default: cores, range: 1...4096))
        case "slurm":
            backend = .slurm(partition: environment.optional("JOBS_SLURM_PARTITION"))
        case let other:
            throw ConfigurationError("JOBS_BACKEND must be local, slurm or none, got '\(other)'")
        }
        var execution = Execution(
            backend: backend,
            agentPath: environment.string("JOBS_AGENT_PATH", default: Execution.defaultAgentPath),
            workDirectory: environment.string("JOBS_WORK_DIR", default: "/var/lib/simforge/work"),
            jobsURL: try environment.serviceURLs("JOBS_URL"),
            runAs: environment.optional("JOBS_RUN_AS"))
        execution.agentFilesURL = try environment.serviceURLs("JOBS_AGENT_FILES_URL")
        execution.agentCatalogURL = try environment.serviceURLs("JOBS_AGENT_CATALOG_URL")
        execution.heartbeatSeconds = try environment.int("JOBS_HEARTBEAT_SECONDS", default: 10, range: 1...3600)
        execution.heartbeatTimeoutSeconds = try environment.int(
            "JOBS_HEARTBEAT_TIMEOUT_SECONDS", default: max(60, 3 * execution.heartbeatSeconds), range: 2...86400)
        execution.reconcileSeconds = try environment.int("JOBS_RECONCILE_SECONDS", default: 10, range: 1...3600)
        execution.stopGraceSeconds = try environment.int("JOBS_STOP_GRACE_SECONDS", default: 10, range: 1...3600)
        if environment.optional("JOBS_WALLTIME_LIMIT_SECONDS") != nil {
            execution.walltimeLimitSeconds = try environment.int("JOBS_WALLTIME_LIMIT_SECONDS", default: 0, range: 1...(8760 * 3600))
        }
        execution.maxUnpackedBytes = Int64(try environment.int("JOBS_MAX_UNPACKED_BYTES", default: 100 << 30, range: 1...Int.max))
        // On Slurm the path is the compute nodes' and need not exist here.
        if case .local = backend, !FileManager.default.isExecutableFile(atPath: execution.agentPath) {
            throw ConfigurationError("JOBS_AGENT_PATH: \(execution.agentPath) is not an executable")
        }
        guard execution.heartbeatTimeoutSeconds > execution.heartbeatSeconds else {
            throw ConfigurationError("JOBS_HEARTBEAT_TIMEOUT_SECONDS must be longer than JOBS_HEARTBEAT_SECONDS")
        }
        self.execution = execution
    }
}
