import Foundation
import Logging
import SimforgeModels
import SimforgeServer

/// Jobs, their runs and the outbox of state changes for the status service. Every state
/// change and its outbox row are written in one transaction. Scoped to owners: another
/// user's job does not exist here.
protocol JobRepository: Sendable {
    /// Inserts a new job (state `created`) and its registration for the status service.
    func create(_ job: StoredJob, logger: Logger) async throws
    func job(id: String, owner: String, logger: Logger) async throws -> StoredJob?
    /// The job's spec as stored, for answering without decoding it into a ``Job``.
    func storedSpec(id: String, owner: String, logger: Logger) async throws -> StoredSpec?
    /// The owner's jobs, newest first.
    func jobs(owner: String, completed: Bool?, state: JobState?, search: String?, page: PageRequest, logger: Logger) async throws
        -> (count: Int, items: [StoredJob])
    /// Replaces the spec of a job not submitted yet.
    func update(_ job: StoredJob, logger: Logger) async throws -> ChangeOutcome
    /// Deletes a job that is not active, and queues its removal from the status history.
    func delete(id: String, owner: String, logger: Logger) async throws -> ChangeOutcome
    /// Moves a job whose state is in `from` to `to`, recording the status (and creating run
    /// "1" on submit); otherwise leaves it as it is.
    func transition(
        id: String, owner: String, from: Set<JobState>, to: JobState, reason: String?, run: RunUpdate?, backendReference: String?,
        logger: Logger
    ) async throws -> TransitionOutcome
    func runs(jobId: String, owner: String, logger: Logger) async throws -> [Run]?

    /// Submitted jobs not handed to a compute backend yet, oldest submission first.
    func pending(limit: Int, logger: Logger) async throws -> [StoredJob]
    /// Jobs a compute backend has or should have (queued or running), for reconciliation.
    func dispatched(logger: Logger) async throws -> [StoredJob]
    /// Records the backend's reference of a job handed to it.
    func setBackendReference(id: String, reference: String, logger: Logger) async throws
    /// Records a heartbeat of the job's agent; the job's state, `nil` when there is no such job.
    func heartbeat(id: String, owner: String, logger: Logger) async throws -> JobState?
    /// Jobs past `Queued` whose agent was not heard of (heartbeat or event) for `timeout`.
    func silent(for timeout: Duration, logger: Logger) async throws -> [StoredJob]

    /// Outbox rows not delivered yet, oldest first.
    func undelivered(limit: Int, logger: Logger) async throws -> [OutboxEntry]
    func markDelivered(_ sequence: [Int64], logger: Logger) async throws
}

/// The PostgreSQL channel the jobs service notifies on when a job is deleted; the payload
/// is the job's id.
enum JobSpecChannel {
    static let name = "simforge_job_specs"
}

enum ChangeOutcome: Sendable {
    case done(StoredJob)
    case notFound
    /// The job's state forbids the change.
    case conflict(JobState)
}

enum TransitionOutcome: Sendable {
    case moved(StoredJob)
    /// Not in an allowed state: nothing changed.
    case unchanged(StoredJob)
    case notFound
}

/// What a transition records on run "1".
struct RunUpdate: Sendable {
    var dateStarted: Date?
    var dateCompleted: Date?
    var exitCode: Int?
    var outputFileCount: Int?
    var outputFileSize: Int64?
}

extension JobRepository {
    func transition(
        id: String, owner: String, from: Set<JobState>, to: JobState, reason: String?, run: RunUpdate? = nil, logger: Logger
    ) async throws -> TransitionOutcome {
        try await self.transition(id: id, owner: owner, from: from, to: to, reason: reason, run: run, backendReference: nil, logger: logger)
    }

    /// A pending job about to be handed to the compute backend: `Queued`.
    func queue(id: String, owner: String, logger: Logger) async throws -> TransitionOutcome {
        try await self.transition(id: id, owner: owner, from: [.pending], to: .queued, reason: nil, logger: logger)
    }
}

/// A state change (or registration) waiting to reach the status service.
struct OutboxEntry: Sendable {
    enum Kind: String, Sendable {
        case register, status, forget
    }

    var sequence: Int64
    var kind: Kind
    var jobId: String
    var payload: Data
}
