import SimforgeModels

/// The rules of the job lifecycle, in one place: which run transitions an event or a
/// request allows, how a job's state follows its runs, what the status reasons and the
/// cluster statuses are. Pure: ``JobPostgresRepository/apply(_:logger:)`` applies them in
/// one transaction, ``JobLifecycle`` does the follow-up.
enum Lifecycle {
    static let succeeded = "Completed successfully"
    static let stoppedByUser = "Stopped by user"

    /// The run transition an agent's event asks for: from which states, to which.
    static func transition(for event: RunEvent.Kind) -> (from: Set<JobState>, to: JobState) {
        switch event {
        case .started: ([.pending, .queued], .started)
        case .validated: ([.started], .validated)
        case .executing: ([.validated], .executing)
        case .finished: (JobState.endable, .completed)
        }
    }

    /// The reason a run ends with: its failure worded for users (a non-zero exit code
    /// without one is the command's), `Stopped by user` when it was stopped, else success.
    static func endReason(failure: RunFailure?, exitCode: Int?, wasStopping: Bool, analysisCount: Int) -> (reason: String, succeeded: Bool) {
        let failure = failure ?? exitCode.flatMap { $0 == 0 ? nil : RunFailure(.stepFailed, step: RunStep(.command, analysis: 1), exitCode: $0) }
        if let failure, !(wasStopping && failure.kind == .stepFailed) {
            return (failure.reason(analysisCount: analysisCount), false)
        }
        if wasStopping { return (Self.stoppedByUser, false) }
        return (Self.succeeded, true)
    }

    /// How a job's runs stand.
    struct Runs: Sendable, Equatable {
        var total: Int
        var completed: Int
        var succeeded: Int
        /// The furthest state of a run that has not ended.
        var furthest: JobState?
        /// The reason of the only run, for a job of one run.
        var onlyReason: String?
    }

    /// What the job becomes after its runs changed, or because its user asked (`requested`:
    /// `.pending` to submit, `.stopping` to stop): the states it passes through, in order,
    /// with their reasons. Its progress follows its furthest run; empty when it stays as it is.
    static func jobSteps(current: JobState, runs: Runs, requested: JobState?) -> [(state: JobState, reason: String?)] {
        var state = current
        var steps: [(state: JobState, reason: String?)] = []
        switch requested {
        case .pending? where state == .created:
            state = .pending
            steps.append((.pending, nil))
        case .stopping? where state.isActive && state != .stopping:
            state = .stopping
            steps.append((.stopping, Self.stoppedByUser))
        default:
            break
        }
        guard state.isActive else { return steps }
        if runs.total > 0 && runs.completed == runs.total {
            let reason: String = if state == .stopping {
                Self.stoppedByUser
            } else if runs.total == 1 {
                runs.onlyReason ?? Self.succeeded
            } else {
                "\(runs.succeeded) of \(runs.total) runs succeeded"
            }
            steps.append((.completed, reason))
            return steps
        }
        guard state != .stopping, let furthest = runs.furthest, furthest > state, furthest <= .executing else { return steps }
        steps.append((furthest, nil))
        return steps
    }

    /// The compute side's statuses (Rescale's cluster statuses) a job's move to `new`
    /// gives; `dispatched`: the compute side had the job before.
    static func clusterStatuses(to new: JobState, dispatched: Bool) -> [String] {
        switch new {
        case .queued: ["Not Started"]
        case .started: ["Started"]
        case .stopping where dispatched: ["Stop Requested"]
        case .completed where dispatched: ["Stopped"]
        default: []
        }
    }
}
