import Foundation
import Logging
import NIOConcurrencyHelpers
import SimforgeProcess

/// Runs on a Slurm cluster: the runs of a job handed over together are one job array
/// (`sbatch --array=<run numbers>%<slots>`: Slurm keeps at most `slots` of them running),
/// each task one run with an allocation of `--ntasks=<cores>`, whose batch step is the run's
/// agent (`simforge-agent <jobId>`, the run from `SLURM_ARRAY_TASK_ID`). `scancel` stops a
/// task. What Slurm knows of the tasks comes from `squeue`, `scontrol show job` and, once
/// Slurm forgot a task (`MinJobAge`), from the job completion log (`jobcomp/filetxt`).
///
/// The working directory (`JOBS_WORK_DIR`) and the agent's path must be the same on every
/// node (a shared filesystem), and the nodes must reach the services' internal URLs. The
/// cluster's `MaxArraySize` must exceed the largest run number (a DOE's run count).
struct SlurmBackend: ComputeBackend {
    let launch: AgentLaunch
    let partition: String?
    /// The environment of the Slurm commands: `PATH` and `SLURM_CONF` of the jobs service.
    let commandEnvironment: [String: String]
    private let largestNode = NIOLockedValueBox<(cores: Int, at: ContinuousClock.Instant)?>(nil)

    struct SlurmError: Error, CustomStringConvertible {
        var description: String
    }

    init(launch: AgentLaunch, partition: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.launch = launch
        self.partition = partition
        self.commandEnvironment = environment.filter { $0.key == "PATH" || $0.key == "SLURM_CONF" }
    }

    var limitsSlots: Bool { true }

    /// The most CPUs a node of the partition has (`sinfo`), asked at most once a minute.
    func maxCoresPerRun(logger: Logger) async throws -> Int {
        if let known = self.largestNode.withLockedValue({ $0 }), ContinuousClock.now - known.at < .seconds(60) { return known.cores }
        var arguments = ["-h", "-N", "-o", "%c"]
        if let partition { arguments += ["-p", partition] }
        let cores = try await self.slurm("sinfo", arguments).split(separator: "\n")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "+"))) }.max() ?? 0
        guard cores > 0 else { throw SlurmError(description: "sinfo reports no node") }
        self.largestNode.withLockedValue { $0 = (cores, ContinuousClock.now) }
        return cores
    }

    func dispatch(_ request: DispatchRequest, logger: Logger) async throws -> [String: String] {
        try FileManager.default.createDirectory(atPath: self.launch.logDirectory, withIntermediateDirectories: true)
        // The agent enforces the walltime itself and then stores the outputs: Slurm's own
        // limit leaves it the stop grace and a few minutes more.
        let minutes = (request.walltimeSeconds + self.launch.execution.stopGraceSeconds + 59) / 60 + 5
        var arguments = [
            "--parsable", "--job-name=\(Self.jobName(request.name))", "--array=\(request.runs.joined(separator: ","))%\(request.slots)",
            "--ntasks=\(request.coresPerRun)", "--time=\(minutes)", "--chdir=\(self.launch.workDirectory)",
            "--output=\(self.launch.logDirectory)/slurm-%A_%a.log", "--comment=simforge job \(request.jobId)", "--export=ALL",
        ]
        if let partition { arguments.append("--partition=\(partition)") }
        arguments.append("--wrap=exec \(Self.quoted(self.launch.executable)) \(Self.quoted(request.jobId))")
        // sbatch passes its own environment to the tasks: the agent's, and nothing else.
        let environment = try await self.launch.environment(for: request).merging(self.commandEnvironment) { _, slurm in slurm }
        let result = try await CommandResult.run("sbatch", arguments, environment: environment, searchPath: true)
        let arrayId = result.output.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard result.succeeded, !arrayId.isEmpty, arrayId.allSatisfy(\.isNumber) else {
            logger.error("sbatch failed", metadata: ["jobs.id": "\(request.jobId)", "sbatch.output": "\(result.output)"])
            throw SlurmError(description: "sbatch failed: \(result.output)")
        }
        logger.info("submitted to Slurm", metadata: ["jobs.id": "\(request.jobId)", "slurm.job": "\(arrayId)", "jobs.runs": "\(request.runs.count)"])
        return Dictionary(uniqueKeysWithValues: request.runs.map { ($0, "\(arrayId)_\($0)") })
    }

    func cancel(run: RunAddress, reference: String, logger: Logger) async throws -> CancelOutcome {
        switch try await self.task(reference)?.state {
        case let state? where Self.waiting.contains(state):
            try await self.slurm("scancel", [reference])
            return .ended
        case let state? where Self.active.contains(state):
            // TERM to the batch step only, which is the agent: it stops the steps and reports.
            try await self.slurm("scancel", ["--batch", "--signal=TERM", reference])
            return .signalled
        default:
            return .ended
        }
    }

    /// Slurm keeps the queue: nothing waits here.
    func resign(logger: Logger) async {}

    func reconcile(_ runs: [(run: RunAddress, reference: String)], logger: Logger) async throws -> [BackendRunState] {
        // One squeue for every task Slurm still schedules; the others one by one.
        var queued: [String: String] = [:]
        for line in try await self.slurm("squeue", ["-h", "-r", "-o", "%i|%T"]).split(separator: "\n") {
            let parts = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { queued[parts[0]] = parts[1] }
        }
        var states: [BackendRunState] = []
        for (_, reference) in runs {
            if let state = queued[reference] {
                states.append(Self.state(of: (state, "0:0"), reference: reference))
            } else {
                states.append(Self.state(of: try await self.task(reference), reference: reference))
            }
        }
        return states
    }

    private static let waiting: Set<String> = ["PENDING", "REQUEUED", "SUSPENDED", "CONFIGURING", "RESV_DEL_HOLD", "REQUEUE_HOLD", "REQUEUE_FED"]
    private static let active: Set<String> = ["RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SIGNALING", "RESIZING"]

    private static func state(of task: (state: String, exitCode: String)?, reference: String) -> BackendRunState {
        guard let (state, exitCode) = task else { return .unknown }
        switch state {
        case _ where Self.waiting.contains(state): return .queued
        case _ where Self.active.contains(state): return .running
        case "TIMEOUT", "DEADLINE": return .exceededWalltime
        case "CANCELLED": return .ended("the cluster cancelled the run")
        default: return .ended("the cluster ended the run \(state) (exit code \(exitCode))")
        }
    }

    /// A task's state and exit code (`JobState`, `ExitCode`); `nil` when Slurm does not know it.
    private func task(_ reference: String) async throws -> (state: String, exitCode: String)? {
        let shown = try await CommandResult.run(
            "scontrol", ["show", "job", "--oneliner", reference], environment: self.commandEnvironment, searchPath: true)
        if shown.succeeded {
            let fields = Self.fields(shown.output)
            if let state = fields["JobState"] { return (state, fields["ExitCode"] ?? "?") }
        } else if !shown.output.contains("not found") && !shown.output.contains("Invalid job id") {
            throw SlurmError(description: "scontrol failed: \(shown.output)")
        }
        if let completed = try await self.completed(reference) { return completed }
        return try await self.removedWhilePending(reference)
    }

    /// A task neither Slurm's memory nor the completion log knows, while its array job is
    /// still known: cancelled while pending (Slurm keeps no record of such a task), when
    /// the array job no longer lists it among its tasks or was cancelled whole.
    private func removedWhilePending(_ reference: String) async throws -> (state: String, exitCode: String)? {
        let parts = reference.split(separator: "_")
        guard parts.count == 2, let task = Int(parts[1]) else { return nil }
        let shown = try await CommandResult.run(
            "scontrol", ["show", "job", "--oneliner", String(parts[0])], environment: self.commandEnvironment, searchPath: true)
        guard shown.succeeded else { return nil }
        var listed = false
        for line in shown.output.split(separator: "\n") {
            let fields = Self.fields(String(line))
            guard let tasks = fields["ArrayTaskId"] else { continue }
            if fields["JobState"] == "CANCELLED" && (tasks == "4294967294" || Self.taskIds(tasks).contains(task)) {
                return ("CANCELLED", fields["ExitCode"] ?? "0:0")
            }
            listed = listed || Self.taskIds(tasks).contains(task)
        }
        return listed ? nil : ("CANCELLED", "0:0")
    }

    /// `1,3-5%2` → `[1, 3, 4, 5]`.
    static func taskIds(_ text: String) -> [Int] {
        let list = text.split(separator: "%").first ?? ""
        return list.split(separator: ",").flatMap { part -> [Int] in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2, bounds[0] <= bounds[1], bounds[1] - bounds[0] < 100_000 { return Array(bounds[0]...bounds[1]) }
            return bounds.count == 1 ? bounds : []
        }
    }

    /// A task Slurm forgot, from the job completion log (`JobCompLoc` of a `jobcomp/filetxt`
    /// cluster): its last line naming the task.
    private func completed(_ reference: String) async throws -> (state: String, exitCode: String)? {
        let parts = reference.split(separator: "_")
        guard parts.count == 2 else { return nil }
        var config: [String: String] = [:]
        for line in try await self.slurm("scontrol", ["show", "config"]).split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 { config[pair[0]] = pair[1] }
        }
        guard config["JobCompType"] == "jobcomp/filetxt", let path = config["JobCompLoc"],
              let log = try? String(contentsOfFile: path, encoding: .utf8)
        else { return nil }
        for line in log.split(separator: "\n").reversed() {
            let fields = Self.fields(String(line))
            if fields["ArrayJobId"] == String(parts[0]), fields["ArrayTaskId"] == String(parts[1]), let state = fields["JobState"] {
                return (state, fields["ExitCode"] ?? "?")
            }
        }
        return nil
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
