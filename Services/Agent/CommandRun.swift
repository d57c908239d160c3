import Foundation
import SimforgeModels
import SimforgeProcess

/// A request to stop the job, from the compute backend (SIGTERM) or from the jobs service
/// (a heartbeat's answer). Checked between steps and while the command runs.
final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    func request() {
        self.lock.withLock { self.requested = true }
    }

    var isRequested: Bool {
        self.lock.withLock { self.requested }
    }
}

/// The user's command: `bash -c` in the working directory, in a process group of its own,
/// with an environment built from scratch (the analysis version's, the job's `envVars` and
/// the hardware's), stdout and stderr into `process_output.log`.
struct CommandRun {
    static let logName = "process_output.log"

    enum Outcome {
        case exited(SpawnedProcess.Termination)
        case exceededWalltime
        case stopped
    }

    let command: String
    let environment: [String: String]
    let directory: String
    /// The user the command runs as (through `setpriv`); `nil`: the agent's own.
    let user: (name: String, uid: uid_t, gid: gid_t)?

    /// The environment the command sees: nothing of the agent's (no token, no URL).
    static func environment(
        jobId: String, analysis: Job.JobAnalysis, version: AnalysisVersionEnvironment, directory: String, user: String?
    ) -> [String: String] {
        let hardware = analysis.hardware
        var environment = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": directory,
            "LANG": "C.UTF-8",
            "SIMFORGE_JOB_ID": jobId,
            "SIMFORGE_RUN_ID": "1",
            "SIMFORGE_SLOTS": "\(hardware.slots)",
            "SIMFORGE_CORES_PER_SLOT": "\(hardware.coresPerSlot)",
            "SIMFORGE_CORES": "\(hardware.slots * hardware.coresPerSlot)",
        ]
        if let user {
            environment["USER"] = user
            environment["LOGNAME"] = user
        }
        environment.merge(version.environment) { $1 }
        environment.merge(analysis.envVars) { $1 }
        return environment
    }

    /// Looks up the unprivileged user the command runs as.
    static func user(named name: String) -> (name: String, uid: uid_t, gid: gid_t)? {
        guard let entry = getpwnam(name) else { return nil }
        return (name, entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// Starts the command; `started` is called once it runs. Stops it (TERM to its group,
    /// KILL after `grace`) at the walltime or when a stop is requested. Whatever the command
    /// left running in its group is killed once it ends.
    func run(walltime: Duration, grace: Duration, stop: StopRequest, started: (Date) async -> Void) async throws -> Outcome {
        let log = open(self.directory + "/" + Self.logName, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw Workspace.Refusal(description: "cannot create \(Self.logName)") }
        if let user { fchown(log, user.uid, user.gid) }
        let process: SpawnedProcess
        do {
            defer { close(log) }
            if let user {
                process = try SpawnedProcess.spawn(
                    executable: "/usr/bin/setpriv",
                    arguments: ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "--", "/bin/bash", "-c", self.command],
                    environment: self.environment, directory: self.directory, output: log)
            } else {
                process = try SpawnedProcess.spawn(
                    executable: "/bin/bash", arguments: ["-c", self.command], environment: self.environment, directory: self.directory,
                    output: log)
            }
        } catch {
            throw Workspace.Refusal(description: "the command could not be started (\(error))")
        }
        defer { process.signal(SIGKILL) }
        await started(Date())

        let deadline = ContinuousClock.now + walltime
        // A short command is seen ending within milliseconds; a long one costs a poll every 100 ms.
        var interval = Duration.milliseconds(2)
        while true {
            if let termination = process.poll() { return .exited(termination) }
            let outOfTime = ContinuousClock.now >= deadline
            if outOfTime || stop.isRequested {
                await Self.end(process, grace: grace)
                return outOfTime ? .exceededWalltime : .stopped
            }
            try? await Task.sleep(for: interval)
            interval = min(interval * 2, .milliseconds(100))
        }
    }

    /// TERM to the whole group, KILL after `grace`, then reaps.
    private static func end(_ process: SpawnedProcess, grace: Duration) async {
        process.signal(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if process.poll() != nil { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        process.signal(SIGKILL)
        _ = await process.wait()
    }
}
