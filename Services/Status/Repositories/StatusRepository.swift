import Foundation
import Logging
import SimforgeModels
import SimforgeServer

/// Status history, scoped to owners: another user's job does not exist here.
protocol StatusRepository: Sendable {
    /// Makes a job known (so its empty history is a 200, not a 404). Idempotent.
    func register(_ job: JobRegistration, logger: Logger) async throws
    /// Forgets a deleted job and its history.
    func forget(jobId: String, logger: Logger) async throws
    /// Stores events not stored yet (by `eventId`) and wakes the owners' waiters; returns
    /// how many were new.
    func store(_ events: [JobStatusEvent], logger: Logger) async throws -> Int
    func jobExists(jobId: String, owner: String, logger: Logger) async throws -> Bool
    /// A job's whole history, when it has one and it is short enough to keep in memory
    /// (from a cache: ask again rather than keep it).
    func history(jobId: String, logger: Logger) async throws -> JobHistory?
    /// The owner's statuses (of one job, when given) newer than `after`, newest first.
    func statuses(owner: String, jobId: String?, after: Date?, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [JobStatus])
}

/// A job's whole history, newest first, its owner (checked on every read), and the last
/// answer paged from it.
final class JobHistory: Sendable {
    let owner: String
    let statuses: [JobStatus]
    let lastAnswer = LastAnswer()

    init(owner: String, statuses: [JobStatus]) {
        self.owner = owner
        self.statuses = statuses
    }

    /// The statuses dated after `date` (compared on whole microseconds, as PostgreSQL does).
    func statuses(after date: Date?) -> ArraySlice<JobStatus> {
        guard let after = date?.wholeMicroseconds else { return self.statuses[...] }
        return self.statuses.prefix { $0.statusDate.wholeMicroseconds > after }
    }
}

/// The PostgreSQL channel the status service notifies on: a job's history changed. The
/// payload is the job's id and its owner, separated by a space (ids are base62).
enum StatusChannel {
    static let name = "simforge_job_statuses"

    static func payload(jobId: String, owner: String) -> String {
        "\(jobId) \(owner)"
    }

    /// The job and owner of a payload; `nil` for anything else.
    static func parse(_ payload: String) -> (jobId: String, owner: String)? {
        guard let space = payload.firstIndex(of: " ") else { return nil }
        return (String(payload[..<space]), String(payload[payload.index(after: space)...]))
    }
}
