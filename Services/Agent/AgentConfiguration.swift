import Foundation

/// What the agent is told by the compute backend that starts it: the job id as its only
/// argument, everything else in its environment (never on the command line, where other
/// users of the node could read the token).
struct AgentConfiguration: Sendable {
    var jobId: String
    /// `SIMFORGE_JOB_TOKEN`: the job-scoped credential (``JobToken``).
    var token: String
    /// `SIMFORGE_JOBS_URL`, `SIMFORGE_FILES_URL`, `SIMFORGE_CATALOG_URL`: internal base URLs.
    var jobsURL: String
    var filesURL: String
    var catalogURL: String
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

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(arguments: [String], environment: [String: String]) throws {
        guard arguments.count == 2, !arguments[1].isEmpty else { throw Invalid(description: "usage: simforge-agent JOB_ID") }
        func require(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else { throw Invalid(description: "\(name) is not set") }
            return value
        }
        func seconds(_ name: String, default value: Int) throws -> Duration {
            guard let text = environment[name], !text.isEmpty else { return .seconds(value) }
            guard let number = Int(text), number > 0 else { throw Invalid(description: "\(name) must be a positive number of seconds") }
            return .seconds(number)
        }
        self.jobId = arguments[1]
        self.token = try require("SIMFORGE_JOB_TOKEN")
        self.jobsURL = try require("SIMFORGE_JOBS_URL")
        self.filesURL = try require("SIMFORGE_FILES_URL")
        self.catalogURL = try require("SIMFORGE_CATALOG_URL")
        self.workRoot = try require("SIMFORGE_WORK_DIR")
        self.walltime = try seconds("SIMFORGE_WALLTIME_SECONDS", default: 48 * 3600)
        self.heartbeat = try seconds("SIMFORGE_HEARTBEAT_SECONDS", default: 10)
        self.stopGrace = try seconds("SIMFORGE_STOP_GRACE_SECONDS", default: 10)
        self.runAs = environment["SIMFORGE_RUN_AS"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
