import Foundation
import SimforgeModels
import SimforgeProcess

/// A request to stop the run, from the compute backend (SIGTERM) or from the jobs service
/// (a heartbeat's answer). Checked between steps and while a step runs.
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

/// One step's command: `bash -c` in the working directory, in a process group of its own,
/// with the environment it is given (built from scratch: nothing of the agent's), stdout
/// and stderr into `output` (the run's `process_output.log`).
struct CommandRun {
    enum Outcome {
        case exited(SpawnedProcess.Termination)
        case exceededWalltime
        case stopped
    }

    let command: String
    let environment: [String: String]
    let directory: String
    /// The user the command runs as (through `setpriv`); `nil`: the agent's own.
    let user: RunUser?

    /// Runs the command until it ends, `deadline` passes or a stop is requested (then TERM
    /// to its group, KILL after `grace`). Whatever it left running in its group is killed
    /// once it ends.
    func run(output: Int32, deadline: ContinuousClock.Instant, grace: Duration, stop: StopRequest) async throws -> Outcome {
        let process: SpawnedProcess
        do {
            if let user = self.user {
                process = try SpawnedProcess.spawn(
                    executable: "/usr/bin/setpriv",
                    arguments: ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "--", "/bin/bash", "-c", self.command],
                    environment: self.environment, directory: self.directory, output: output)
            } else {
                process = try SpawnedProcess.spawn(
                    executable: "/bin/bash", arguments: ["-c", self.command], environment: self.environment, directory: self.directory,
                    output: output)
            }
        } catch {
            throw RunFailed(failure: RunFailure(.agentFailure), detail: "the command could not be started (\(error))")
        }
        defer { process.signal(SIGKILL) }

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

/// The unprivileged user a run's commands run as.
struct RunUser: Sendable {
    var name: String
    var uid: uid_t
    var gid: gid_t

    static func named(_ name: String) -> RunUser? {
        guard let entry = getpwnam(name) else { return nil }
        return RunUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }
}
