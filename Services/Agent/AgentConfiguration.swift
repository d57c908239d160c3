import Foundation
import SimforgeFailover

/// What the agent is told by the compute backend that starts it: the job and run ids as
/// its arguments (on Slurm the run is the array task, `SLURM_ARRAY_TASK_ID`), everything
/// else in its environment (never on the command line, where other users of the node could
/// read the token).
struct AgentConfiguration: Sendable {
    var jobId: String
    var runId: String
    /// `SIMFORGE_JOB_TOKEN`: the job-scoped credential (``JobToken``).
    var token: String
    /// `SIMFORGE_JOBS_URL`, `SIMFORGE_FILES_URL`, `SIMFORGE_CATALOG_URL`: internal base URLs,
    /// each a comma-separated list when the service runs as several replicas.
    var jobs: ServiceReplicas
    var files: ServiceReplicas
    var catalog: ServiceReplicas
    /// `SIMFORGE_WORK_DIR`: where the job's working directory is made (`<dir>/<jobId>`).
    var workRoot: String
    /// `SIMFORGE_WALLTIME_SECONDS`: how long the command may run.
    var walltime: Duration
    /// `SIMFORGE_HEARTBEAT_SECONDS` (10): how often the agent tells jobs it is alive.
    var heartbeat: Duration
    /// `SIMFORGE_STOP_GRACE_SECONDS` (10): between TERM and KILL when the command is stopped.
    var stopGrace: Duration
    /// `SIMFORGE_RUN_AS`: an unprivileged user the command runs as (the agent must be root).
    var runAs: String?
    /// `SIMFORGE_MAX_UNPACKED_BYTES` (100 GiB): the most a run's archives may unpack to
    /// (never more than the free disk).
    var maxUnpackedBytes: Int64

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(arguments: [String], environment: [String: String]) throws {
        let runId = arguments.count == 3 ? arguments[2] : environment["SLURM_ARRAY_TASK_ID"]
        guard arguments.count == 2 || arguments.count == 3, !arguments[1].isEmpty, let runId, !runId.isEmpty else {
            throw Invalid(description: "usage: simforge-agent JOB_ID [RUN_ID] (the run from SLURM_ARRAY_TASK_ID without it)")
        }
        func require(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else { throw Invalid(description: "\(name) is not set") }
            return value
        }
        func replicas(_ name: String) throws -> ServiceReplicas {
            let list = try require(name)
            do {
                return try ServiceReplicas(list)
            } catch {
                throw Invalid(description: "\(name): \(error)")
            }
        }
        func seconds(_ name: String, default value: Int) throws -> Duration {
            guard let text = environment[name], !text.isEmpty else { return .seconds(value) }
            guard let number = Int(text), number > 0 else { throw Invalid(description: "\(name) must be a positive number of seconds") }
            return .seconds(number)
        }
        self.jobId = arguments[1]
        self.runId = runId
        self.token = try require("SIMFORGE_JOB_TOKEN")
        self.jobs = try replicas("SIMFORGE_JOBS_URL")
        self.files = try replicas("SIMFORGE_FILES_URL")
        self.catalog = try replicas("SIMFORGE_CATALOG_URL")
        self.workRoot = try require("SIMFORGE_WORK_DIR")
        self.walltime = try seconds("SIMFORGE_WALLTIME_SECONDS", default: 48 * 3600)
        self.heartbeat = try seconds("SIMFORGE_HEARTBEAT_SECONDS", default: 10)
        self.stopGrace = try seconds("SIMFORGE_STOP_GRACE_SECONDS", default: 10)
        self.runAs = environment["SIMFORGE_RUN_AS"].flatMap { $0.isEmpty ? nil : $0 }
        if let text = environment["SIMFORGE_MAX_UNPACKED_BYTES"], !text.isEmpty {
            guard let bytes = Int64(text), bytes > 0 else { throw Invalid(description: "SIMFORGE_MAX_UNPACKED_BYTES must be a positive number") }
            self.maxUnpackedBytes = bytes
        } else {
            self.maxUnpackedBytes = 100 << 30
        }
    }
}
