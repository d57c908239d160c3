import Foundation
import Logging

/// Where runs execute (DESIGN.md "Compute backends"): on this host, or on a Slurm cluster.
/// The ``Dispatcher`` hands pending runs to the backend; each run's agent then reports its
/// progress through the events route.
protocol ComputeBackend: Sendable {
    /// Whether the backend itself keeps no more than a job's `slots` runs executing at once
    /// (Slurm's job arrays); otherwise the dispatcher hands over no more than that.
    var limitsSlots: Bool { get }
    /// The most cores one run can get (the largest node): a job asking more is refused.
    func maxCoresPerRun(logger: Logger) async throws -> Int
    /// Starts (or queues) runs of one job; returns the backend's reference of each run.
    /// Throwing means they cannot run: they end `Could not start`.
    func dispatch(_ request: DispatchRequest, logger: Logger) async throws -> [String: String]
    /// Stops a dispatched run. When its agent runs, the agent ends the steps and reports
    /// the end like any other; when it never started, nobody will report: `.ended`.
    func cancel(run: RunAddress, reference: String, logger: Logger) async throws -> CancelOutcome
    /// What the backend knows of dispatched runs: asked after the jobs service restarts and
    /// from time to time. One answer per run, in order.
    func reconcile(_ runs: [(run: RunAddress, reference: String)], logger: Logger) async throws -> [BackendRunState]
    /// This replica no longer leads the dispatchers: it forgets runs it kept waiting for
    /// resources (the next leader hands them over again); its running agents go on.
    func resign(logger: Logger) async
}

/// A run of a job.
struct RunAddress: Sendable, Hashable, CustomStringConvertible {
    var jobId: String
    var runId: String

    var description: String { "\(self.jobId)/\(self.runId)" }
}

/// What a backend needs to start runs of one job.
struct DispatchRequest: Sendable, Equatable {
    var jobId: String
    var owner: String
    var name: String
    /// The runs to start, in display order.
    var runs: [String]
    /// At most this many of the job's runs execute at once (backends that limit slots).
    var slots: Int
    /// The cores each run gets.
    var coresPerRun: Int
    /// Each run's walltime, capped by the site's limit.
    var walltimeSeconds: Int
    /// The agents' credential (``JobToken``), scoped to this job.
    var agentToken: String
}

enum CancelOutcome: Sendable, Equatable {
    /// The agent was told to stop; it reports the end.
    case signalled
    /// The run never started: it ends now, without a report.
    case ended
}

enum BackendRunState: Sendable, Equatable {
    /// Waiting for resources: it will start.
    case queued
    /// Its agent runs and reports.
    case running
    /// Ended without its agent reporting the end (failed or cancelled before it started,
    /// or the agent died); what happened, in words users can read.
    case ended(String)
    /// Ended by the backend at the run's time limit.
    case exceededWalltime
    /// The backend does not know it (any more).
    case unknown
    /// Handed over by a replica on another host, whose processes this one cannot see:
    /// queued, it is handed over again (only the leader keeps runs waiting); running, its
    /// agent's heartbeats tell whether it lives.
    case elsewhere
}
