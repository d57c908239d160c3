import Foundation
import Logging

/// Where submitted jobs run (DESIGN.md "Compute backends"): on this host, or on a Slurm
/// cluster. The ``Dispatcher`` hands each pending job to the backend; the job's agent then
/// reports its progress through the events route.
protocol ComputeBackend: Sendable {
    /// Starts (or queues) the job; returns the backend's reference for it (a process id,
    /// a Slurm job id). Throwing means the job cannot run: it ends `Could not start`.
    func dispatch(_ job: DispatchRequest, logger: Logger) async throws -> String
    /// Stops a dispatched job; its end is reported like any other (a `Finished` event).
    func cancel(reference: String, logger: Logger) async throws
    /// What the backend knows of a dispatched job, asked after the jobs service restarts.
    func reconcile(reference: String, logger: Logger) async throws -> BackendJobState
}

/// What a backend needs to start a job's agent.
struct DispatchRequest: Sendable, Equatable {
    var jobId: String
    var owner: String
    var name: String
    var slots: Int
    var coresPerSlot: Int
    var walltimeHours: Int
    /// The agent's credential (``JobToken``), scoped to this job.
    var agentToken: String
}

enum BackendJobState: Sendable, Equatable {
    /// Queued or running there: its agent will report.
    case running
    /// Ended without its agent reporting the end (failed or cancelled before it started).
    case finished(reason: String)
    /// The backend does not know it (any more).
    case unknown
}
