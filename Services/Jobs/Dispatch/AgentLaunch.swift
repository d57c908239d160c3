import Foundation

/// How a compute backend starts `simforge-agent` for a job: the executable, its one
/// argument (the job id) and the whole of its environment. The agent gets its job token
/// and the internal URLs, nothing else of the jobs service's (no internal token, no
/// database password).
final class AgentLaunch: @unchecked Sendable {
    let executable: String
    /// Where agents make the jobs' working directories (and backends keep agent logs).
    let workDirectory: String
    let filesURL: String
    let catalogURL: String
    let heartbeatSeconds: Int
    let stopGraceSeconds: Int
    let runAs: String?

    private let lock = NSLock()
    private var jobsURL: String?

    /// - Parameter jobsURL: how agents reach the jobs service; `nil`: its own listening
    ///   address, once known (``serving(at:)``).
    init(executable: String, workDirectory: String, jobsURL: String?, filesURL: String, catalogURL: String,
         heartbeatSeconds: Int, stopGraceSeconds: Int, runAs: String?) {
        self.executable = executable
        self.workDirectory = workDirectory
        self.jobsURL = jobsURL
        self.filesURL = filesURL
        self.catalogURL = catalogURL
        self.heartbeatSeconds = heartbeatSeconds
        self.stopGraceSeconds = stopGraceSeconds
        self.runAs = runAs
    }

    /// The jobs service listens on `host:port`: agents call it there unless configured otherwise.
    func serving(host: String, port: Int) {
        self.lock.withLock {
            if self.jobsURL == nil { self.jobsURL = "http://\(host):\(port)" }
        }
    }

    /// Waits until the jobs service's address is known.
    func ready() async {
        while self.lock.withLock({ self.jobsURL }) == nil {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    func environment(for job: DispatchRequest) -> [String: String] {
        var environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "SIMFORGE_JOB_TOKEN": job.agentToken,
            "SIMFORGE_JOBS_URL": self.lock.withLock { self.jobsURL } ?? "",
            "SIMFORGE_FILES_URL": self.filesURL,
            "SIMFORGE_CATALOG_URL": self.catalogURL,
            "SIMFORGE_WORK_DIR": self.workDirectory,
            "SIMFORGE_WALLTIME_SECONDS": "\(job.walltimeSeconds)",
            "SIMFORGE_HEARTBEAT_SECONDS": "\(self.heartbeatSeconds)",
            "SIMFORGE_STOP_GRACE_SECONDS": "\(self.stopGraceSeconds)",
        ]
        if let runAs { environment["SIMFORGE_RUN_AS"] = runAs }
        return environment
    }
}
