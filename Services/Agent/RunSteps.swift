import Foundation
import SimforgeModels

/// Every analysis of the job, in order, in the run's working directory: its pre-processing
/// (when it has a script or a command), its command, its post-processing. The first step
/// that fails ends the run; each step's output goes into `process_output.log` under a line
/// naming the step.
struct RunSteps {
    static let logName = "process_output.log"

    let job: Job
    /// Each analysis's version, in the job's order.
    let versions: [AnalysisVersionEnvironment]
    let workspace: Workspace
    let user: RunUser?
    let environment: RunEnvironment
    /// The run's walltime ends every step at once.
    let deadline: ContinuousClock.Instant
    let grace: Duration
    let stop: StopRequest

    /// One step's command, or `nil` when the analysis has no such step.
    static func command(_ kind: RunStep.Kind, of analysis: Job.JobAnalysis) -> String? {
        func processing(_ script: Job.FileReference?, _ command: String) -> String? {
            if !command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return command }
            return script.map { "./" + ($0.file?.name ?? $0.id) }
        }
        switch kind {
        case .preProcessing: return processing(analysis.preProcessScript, analysis.preProcessScriptCommand)
        case .command: return analysis.command
        case .postProcessing: return processing(analysis.postProcessScript, analysis.postProcessScriptCommand)
        }
    }

    /// Runs the steps; `started` is called once the first one runs. The exit code of the
    /// last step that ran, and why the run failed (`nil`: every step succeeded, or a stop).
    func run(started: (Date) async -> Void) async throws -> (exitCode: Int?, failure: RunFailure?) {
        let path = self.workspace.directory + "/" + Self.logName
        let log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw RunFailed(failure: RunFailure(.agentFailure), detail: "cannot create \(path)") }
        defer { close(log) }
        if let user { fchown(log, user.uid, user.gid) }

        var exitCode: Int?
        var startedYet = false
        for (index, analysis) in self.job.jobanalyses.enumerated() {
            for kind in [RunStep.Kind.preProcessing, .command, .postProcessing] {
                guard let command = Self.command(kind, of: analysis) else { continue }
                if self.stop.isRequested { return (exitCode, nil) }
                let step = RunStep(kind, analysis: index + 1)
                let header = "===== \(step.name(analysisCount: self.job.jobanalyses.count)): \(command.trimmingCharacters(in: .whitespacesAndNewlines)) =====\n"
                _ = header.utf8CString.withUnsafeBufferPointer { write(log, $0.baseAddress, $0.count - 1) }
                if !startedYet {
                    startedYet = true
                    await started(Date())
                }
                let run = CommandRun(
                    command: command, environment: self.environment.variables(for: analysis, version: self.versions[index]),
                    directory: self.workspace.directory, user: self.user)
                switch try await run.run(output: log, deadline: self.deadline, grace: self.grace, stop: self.stop) {
                case .exited(let termination):
                    exitCode = termination.exitCode
                    if termination != .exited(0) {
                        return (exitCode, RunFailure(.stepFailed, step: step, exitCode: termination.exitCode))
                    }
                case .exceededWalltime:
                    return (exitCode, RunFailure(.exceededWalltime))
                case .stopped:
                    return (exitCode, nil)
                }
            }
        }
        return (exitCode, nil)
    }
}
