import Foundation
import Logging

/// Where submitted jobs run (DESIGN.md "Compute backends"): on this host, or on a Slurm
/// cluster. The ``Dispatcher`` hands each pending job to the backend; the job's agent then
/// reports its progress through the events route.
protocol ComputeBackend: Sendable {
    /// Starts (or queues) the job; returns the backend's reference for it (a Slurm job id).
    /// Throwing means the job cannot run: it ends `Could not start`.
    func dispatch(_ job: DispatchRequest, logger: Logger) async throws -> String
    /// Stops a dispatched job. When its agent runs, the agent ends the command and reports
    /// the end like any other; when it never started, nobody will report: `.ended`.
    func cancel(jobId: String, reference: String, logger: Logger) async throws -> CancelOutcome
    /// What the backend knows of a dispatched job: asked after the jobs service restarts
    /// and, for queued jobs, from time to time.
    func reconcile(jobId: String, reference: String, logger: Logger) async throws -> BackendJobState
}

/// What a backend needs to start a job's agent.
struct DispatchRequest: Sendable, Equatable {
    var jobId: String
    var owner: String
    var name: String
    var slots: Int
    var coresPerSlot: Int
    /// The job's walltime, capped by the site's limit.
    var walltimeSeconds: Int
    /// The agent's credential (``JobToken``), scoped to this job.
    var agentToken: String
}

enum CancelOutcome: Sendable, Equatable {
    /// The agent was told to stop; it reports the end.
    case signalled
    /// The job never started: it ends now, without a report.
    case ended
}

enum BackendJobState: Sendable, Equatable {
    /// Waiting for resources: it will start.
    case queued
    /// Its agent runs and reports.
    case running
    /// Ended without its agent reporting the end (failed or cancelled before it started,
    /// or the agent died); what happened, in words ("Slurm job 12 ended FAILED, exit code 3:0").
    case ended(String)
    /// Ended by the backend at the job's time limit.
    case exceededWalltime
    /// The backend does not know it (any more).
    case unknown
}
