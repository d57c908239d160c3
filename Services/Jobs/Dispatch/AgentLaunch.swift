import Foundation

/// How a compute backend starts `simforge-agent` for a run: the executable, its arguments
/// (the job and run ids) and the whole of its environment. The agent gets its job token
/// and the internal URLs, nothing else of the jobs service's (no internal token, no
/// database password).
final class AgentLaunch: @unchecked Sendable {
    let execution: JobsConfiguration.Execution
    /// How agents reach files and catalog.
    let filesURL: String
    let catalogURL: String

    private let lock = NSLock()
    private var jobsURL: String?

    init(execution: JobsConfiguration.Execution, filesURL: String, catalogURL: String) {
        self.execution = execution
        self.filesURL = execution.agentFilesURL ?? filesURL
        self.catalogURL = execution.agentCatalogURL ?? catalogURL
        self.jobsURL = execution.jobsURL
    }

    var executable: String { self.execution.agentPath }
    /// Where agents make the jobs' working directories.
    var workDirectory: String { self.execution.workDirectory }
    /// Where backends keep what agents print (their own log, not the command's output).
    var logDirectory: String { self.execution.workDirectory + "/agent-logs" }

    /// The jobs service listens on `host:port`: agents call it there unless `JOBS_URL` says otherwise.
    func serving(host: String, port: Int) {
        self.lock.withLock {
            if self.jobsURL == nil { self.jobsURL = "http://\(host):\(port)" }
        }
    }

    /// The agents' environment for runs of `job`; waits until the jobs service's address is known.
    func environment(for job: DispatchRequest) async throws -> [String: String] {
        var jobsURL = self.lock.withLock { self.jobsURL }
        while jobsURL == nil {
            try await Task.sleep(for: .milliseconds(20))
            jobsURL = self.lock.withLock { self.jobsURL }
        }
        var environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "SIMFORGE_JOB_TOKEN": job.agentToken,
            "SIMFORGE_JOBS_URL": jobsURL!,
            "SIMFORGE_FILES_URL": self.filesURL,
            "SIMFORGE_CATALOG_URL": self.catalogURL,
            "SIMFORGE_WORK_DIR": self.execution.workDirectory,
            "SIMFORGE_WALLTIME_SECONDS": "\(job.walltimeSeconds)",
            "SIMFORGE_HEARTBEAT_SECONDS": "\(self.execution.heartbeatSeconds)",
            "SIMFORGE_STOP_GRACE_SECONDS": "\(self.execution.stopGraceSeconds)",
            "SIMFORGE_MAX_UNPACKED_BYTES": "\(self.execution.maxUnpackedBytes)",
        ]
        if let runAs = self.execution.runAs { environment["SIMFORGE_RUN_AS"] = runAs }
        return environment
    }
}
