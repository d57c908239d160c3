import Foundation
import Logging
import SimforgeProcess

/// Jobs on a Slurm cluster: `sbatch` runs the agent as the job's batch step, with the
/// job's name, slots (tasks), cores per slot (CPUs per task) and walltime; `scancel` stops
/// it. What Slurm knows of a job comes from `scontrol show job` and, once Slurm forgot it
/// (`MinJobAge`), from the job completion log (`sacct --completion`).
///
/// The working directory (`JOBS_WORK_DIR`) and the agent's path must be the same on every
/// node (a shared filesystem), and the nodes must reach the services' internal URLs.
struct SlurmBackend: ComputeBackend {
    let launch: AgentLaunch
    let partition: String?
    /// The environment of the Slurm commands: `PATH` and `SLURM_CONF` of the jobs service.
    let commandEnvironment: [String: String]

    struct SlurmError: Error, CustomStringConvertible {
        var description: String
    }

    init(launch: AgentLaunch, partition: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.launch = launch
        self.partition = partition
        self.commandEnvironment = environment.filter { $0.key == "PATH" || $0.key == "SLURM_CONF" }
    }

    func dispatch(_ job: DispatchRequest, logger: Logger) async throws -> String {
        try FileManager.default.createDirectory(atPath: self.launch.logDirectory, withIntermediateDirectories: true)
        // The agent enforces the walltime itself and then stores the outputs: Slurm's own
        // limit leaves it the stop grace and a few minutes more.
        let minutes = (job.walltimeSeconds + self.launch.execution.stopGraceSeconds + 59) / 60 + 5
        var arguments = [
            "--parsable", "--job-name=\(Self.jobName(job.name))", "--ntasks=\(job.slots)", "--cpus-per-task=\(job.coresPerSlot)",
            "--time=\(minutes)", "--chdir=\(self.launch.workDirectory)", "--output=\(self.launch.logDirectory)/slurm-%j.log",
            "--comment=simforge job \(job.jobId)", "--export=ALL",
        ]
        if let partition { arguments.append("--partition=\(partition)") }
        arguments.append("--wrap=exec \(Self.quoted(self.launch.executable)) \(Self.quoted(job.jobId))")
        // sbatch passes its own environment to the job: the agent's, and nothing else.
        let environment = try await self.launch.environment(for: job).merging(self.commandEnvironment) { _, slurm in slurm }
        let result = try await CommandResult.run("sbatch", arguments, environment: environment, searchPath: true)
        let reference = result.output.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard result.succeeded, !reference.isEmpty, reference.allSatisfy(\.isNumber) else {
            logger.error("sbatch failed", metadata: ["jobs.id": "\(job.jobId)", "sbatch.output": "\(result.output)"])
            throw SlurmError(description: "sbatch failed: \(result.output)")
        }
        logger.info("submitted to Slurm", metadata: ["jobs.id": "\(job.jobId)", "slurm.job": "\(reference)"])
        return reference
    }

    func cancel(jobId: String, reference: String, logger: Logger) async throws -> CancelOutcome {
        switch try await self.state(of: reference) {
        case .some((let state, _)) where state == "PENDING" || state == "REQUEUED" || state == "SUSPENDED":
            try await self.slurm("scancel", [reference])
            return .ended
        case .some((let state, _)) where Self.active.contains(state):
            // TERM to the batch step only, which is the agent: it stops the command and reports.
            try await self.slurm("scancel", ["--batch", "--signal=TERM", reference])
            return .signalled
        default:
            return .ended
        }
    }

    func reconcile(jobId: String, reference: String, logger: Logger) async throws -> BackendJobState {
        guard let (state, exitCode) = try await self.state(of: reference) else { return .unknown }
        switch state {
        case "PENDING", "REQUEUED", "SUSPENDED", "CONFIGURING", "RESV_DEL_HOLD", "REQUEUE_HOLD", "REQUEUE_FED":
            return .queued
        case _ where Self.active.contains(state):
            return .running
        case "TIMEOUT", "DEADLINE":
            return .exceededWalltime
        case "CANCELLED":
            return .ended("Slurm job \(reference) was cancelled")
        default:
            return .ended("Slurm job \(reference) ended \(state) (exit code \(exitCode))")
        }
    }

    private static let active: Set<String> = ["RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SIGNALING", "RESIZING"]

    /// The job's state and exit code (`JobState`, `ExitCode`); `nil` when Slurm does not know it.
    private func state(of reference: String) async throws -> (state: String, exitCode: String)? {
        let shown = try await CommandResult.run(
            "scontrol", ["show", "job", "--oneliner", reference], environment: self.commandEnvironment, searchPath: true)
        if shown.succeeded {
            let fields = Self.fields(shown.output)
            if let state = fields["JobState"] { return (state, fields["ExitCode"] ?? "?") }
        } else if !shown.output.contains("Invalid job id") {
            throw SlurmError(description: "scontrol failed: \(shown.output)")
        }
        // Forgotten by slurmctld: the job completion log still has it.
        let completed = try await CommandResult.run(
            "sacct", ["--completion", "--jobs=\(reference)", "--noheader", "--parsable2", "--format=JobState,ExitCode"],
            environment: self.commandEnvironment, searchPath: true)
        guard completed.succeeded,
              let line = completed.output.split(separator: "\n").last(where: { !$0.isEmpty })
        else { return nil }
        let parts = line.split(separator: "|").map(String.init)
        return parts.count == 2 ? (parts[0].split(separator: " ").first.map(String.init) ?? parts[0], parts[1]) : nil
    }

    @discardableResult
    private func slurm(_ command: String, _ arguments: [String]) async throws -> String {
        let result = try await CommandResult.run(command, arguments, environment: self.commandEnvironment, searchPath: true)
        guard result.succeeded else { throw SlurmError(description: "\(command) failed: \(result.output)") }
        return result.output
    }

    /// `Key=Value` pairs of an `scontrol --oneliner` line.
    static func fields(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in line.split(whereSeparator: \.isWhitespace) {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return fields
    }

    /// The job's name as a Slurm job name (no spaces or quotes).
    static func jobName(_ name: String) -> String {
        let cleaned = String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }.prefix(64))
        return cleaned.isEmpty ? "simforge" : cleaned
    }

    /// `text` single-quoted for `sh`.
    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
