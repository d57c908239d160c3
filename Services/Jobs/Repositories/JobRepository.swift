import Foundation
import Logging
import SimforgeModels
import SimforgeServer

/// Jobs, their runs and the outbox of status changes for the status service. Every state
/// change and its outbox row are written in one transaction (``apply(_:logger:)``). Scoped
/// to owners: another user's job does not exist here.
protocol JobRepository: Sendable {
    /// Inserts a new job (state `created`), its runs and its registration for the status service.
    func create(_ job: StoredJob, runs: [PlannedRun], logger: Logger) async throws
    func job(id: String, owner: String, logger: Logger) async throws -> StoredJob?
    /// The job's spec as stored, for `GET jobs/{id}/` (cached once submitted).
    func storedSpec(id: String, owner: String, logger: Logger) async throws -> StoredSpec?
    /// The owner's jobs, newest first, as `GET jobs/` shows them.
    func summaries(owner: String, completed: Bool?, state: JobState?, search: String?, page: PageRequest, logger: Logger) async throws
        -> (count: Int, items: [JobSummary])
    /// Changes what a job is called or belongs to (any time), and, before it is submitted,
    /// what it runs (`runs` then replaces its runs); `.conflict` once submitted.
    func update(_ job: StoredJob, runs: [PlannedRun]?, logger: Logger) async throws -> ChangeOutcome
    /// Deletes a job that is not active, and queues its removal from the status history.
    func delete(id: String, owner: String, logger: Logger) async throws -> ChangeOutcome

    /// Moves runs of a job as the lifecycle asks and the job with them, recording each
    /// status of the job; all or nothing.
    func apply(_ change: JobChange, logger: Logger) async throws -> JobChangeOutcome

    /// One page of a job's runs in display order; `nil` when the owner has no such job.
    func runs(jobId: String, owner: String, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [StoredRun])?
    func run(jobId: String, runId: String, owner: String, logger: Logger) async throws -> StoredRun?
    /// The compute side's statuses of a job, newest first; `nil` when there is no such job.
    func clusterStatuses(jobId: String, owner: String, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [JobStatus])?

    /// Claims pending runs for the compute backend and moves them to `Queued`: at most
    /// `limit` jobs a pass, oldest submission first; with `slotsLimitRuns`, no more runs of a
    /// job than its slots are handed over at once. Jobs another replica is claiming are skipped.
    func claimPendingRuns(limit: Int, slotsLimitRuns: Bool, logger: Logger) async throws -> [DispatchWork]
    /// Records the backend's reference of runs handed to it.
    func setBackendReferences(jobId: String, references: [String: String], logger: Logger) async throws
    /// Runs a compute backend has or should have (queued or running), for reconciliation.
    func dispatchedRuns(logger: Logger) async throws -> [DispatchedRun]
    /// Those of the given runs of one job.
    func dispatchedRuns(jobId: String, runs: [String], logger: Logger) async throws -> [DispatchedRun]
    /// Records a heartbeat of a run's agent; the run's and its job's states, `nil` when
    /// there is no such run.
    func heartbeat(jobId: String, runId: String, owner: String, logger: Logger) async throws -> (run: JobState, job: JobState)?
    /// Runs past `Queued` whose agent was not heard of (heartbeat or event) for `timeout`.
    func silentRuns(for timeout: Duration, logger: Logger) async throws -> [DispatchedRun]

    /// Restarts the watch over running runs' agents: a new leader of the dispatchers gives
    /// every agent a full heartbeat timeout from now (agents that could not reach jobs while
    /// it was down are still retrying).
    func restartAgentWatch(logger: Logger) async throws
    /// Runs being stopped whose backend was not told yet.
    func unsignalledStoppingRuns(logger: Logger) async throws -> [DispatchedRun]
    /// Records that the backend was told to stop the run.
    func markStopSignalled(_ run: DispatchedRun, logger: Logger) async throws

    /// One pass of the outbox relay, alone across all replicas (it holds the outbox's
    /// claim, waiting up to `wait` for another replica's pass to end, else `.busy`): every
    /// undelivered row, oldest first, in groups `deliver` sends; the rows of each group it
    /// sent are marked delivered. A group that fails ends the pass. With `prune`, delivered
    /// rows older than the last ``outboxTail`` are deleted.
    func relayOutbox(waitingUpTo wait: Duration, prune: Bool, logger: Logger,
                     deliver: @escaping @Sendable ([OutboxEntry]) async throws -> Void) async throws -> RelayPass
}

/// How many delivered outbox rows are kept (for debugging) when the relay prunes.
let outboxTail = 1000

/// The end of an outbox relay pass.
enum RelayPass: Sendable, Equatable {
    /// Every row was delivered.
    case drained
    /// A group could not be delivered (the rows before it were).
    case failed
    /// Another replica's pass held the outbox.
    case busy
}

/// The PostgreSQL channel the jobs service notifies on when a job's stored spec changes or
/// goes; the payload is the job's id.
enum JobSpecChannel {
    static let name = "simforge_job_specs"
}

/// The PostgreSQL channel that wakes the leading dispatcher (whichever replica it is in)
/// when runs wait for it: submitted, being stopped, or a run ended (its cores and slot free).
enum DispatchChannel {
    static let name = "simforge_dispatch"
    /// Runs moving to these states notify the channel.
    static let wakingStates: Set<JobState> = [.pending, .stopping, .completed]
}

/// PostgreSQL advisory lock keys of the jobs service (any 64-bit numbers of its own).
enum JobsLocks {
    /// The leader of the dispatchers (session lock, ``LeaderLease``).
    static let dispatcher: Int64 = 0x5349_4D46_4A44_5350  // "SIMFJDSP"
    /// One outbox relay pass at a time (transaction lock).
    static let outbox: Int64 = 0x5349_4D46_4A4F_5458  // "SIMFJOTX"
}

enum ChangeOutcome: Sendable {
    case done(StoredJob)
    case notFound
    /// The job's state forbids the change.
    case conflict(JobState)
}

/// A run as the job's create computes it: its number and its variables.
struct PlannedRun: Sendable, Equatable {
    var number: Int
    var variables: [RunVariable]
}

/// What a change of a job's runs records on them.
struct RunUpdate: Sendable {
    var dateStarted: Date?
    var dateCompleted: Date?
    var exitCode: Int?
    var outputFileCount: Int?
    var outputFileSize: Int64?
    /// The status reason of a run that ends, and whether it succeeded.
    var reason: String?
    var succeeded: Bool?
    /// The reason instead when the run was `stopping` (its user stopped it).
    var reasonIfStopping: String?
}

/// One step of the lifecycle for one job: runs that move (`runs` in `from` move to `to`;
/// all the job's runs when `runs` is `nil`), and what the job's user asked (`requested`:
/// `.pending` to submit, `.stopping` to stop).
struct JobChange: Sendable {
    var jobId: String
    var owner: String
    var runs: [String]?
    var from: Set<JobState>
    var to: JobState?
    var update: RunUpdate?
    var requested: JobState?

    init(jobId: String, owner: String, runs: [String]? = nil, from: Set<JobState> = [], to: JobState? = nil, update: RunUpdate? = nil,
         requested: JobState? = nil) {
        self.jobId = jobId
        self.owner = owner
        self.runs = runs
        self.from = from
        self.to = to
        self.update = update
        self.requested = requested
    }
}

enum JobChangeOutcome: Sendable {
    /// The job after the change, and the runs that moved.
    case applied(job: StoredJob, movedRuns: [String])
    case notFound
}

/// Runs of one job claimed for the compute backend.
struct DispatchWork: Sendable {
    var job: StoredJob
    var runs: [String]
}

/// A run the compute backend has: its job, its state, the backend's reference.
struct DispatchedRun: Sendable {
    var jobId: String
    var owner: String
    var runId: String
    var state: JobState
    var backendReference: String?
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

    /// Entries in the groups they are sent in, in order: consecutive status events travel
    /// together, anything else alone.
    static func groups(of entries: [OutboxEntry]) -> [[OutboxEntry]] {
        var groups: [[OutboxEntry]] = []
        for entry in entries {
            if entry.kind == .status, let last = groups.last?.last, last.kind == .status {
                groups[groups.count - 1].append(entry)
            } else {
                groups.append([entry])
            }
        }
        return groups
    }
}
