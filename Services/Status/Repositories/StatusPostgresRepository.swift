import Foundation
import Logging
import PostgresNIO
import SimforgeModels
import SimforgeServer

/// ``StatusRepository`` on the `status` schema. Jobs' histories read by id are kept in a
/// ``ReadCache``: ``store(_:logger:)`` and ``forget(jobId:logger:)`` invalidate what they
/// change, and the service's ``NotificationListener`` what other replicas change.
struct StatusPostgresRepository: StatusRepository {
    /// Longer histories are not cached (a job has a handful of statuses per run).
    static let cachedHistoryLimit = 200

    let client: PostgresClient
    let histories: ReadCache<String, JobHistory>

    init(client: PostgresClient, cachedHistories: Int = ReadCacheSettings.defaultEntries) {
        self.client = client
        self.histories = ReadCache(name: "job_histories", capacity: cachedHistories)
    }

    func register(_ job: JobRegistration, logger: Logger) async throws {
        try await self.client.query(
            "INSERT INTO status.jobs (job_id, owner) VALUES (\(job.jobId), \(job.owner)) ON CONFLICT (job_id) DO NOTHING", logger: logger
        ).drain()
    }

    func forget(jobId: String, logger: Logger) async throws {
        defer { self.histories.invalidate(jobId) }
        try await self.client.withTransaction(logger: logger) { connection in
            try await connection.query("DELETE FROM status.job_statuses WHERE job_id = \(jobId)", logger: logger).drain()
            let owners = try await connection.query("DELETE FROM status.jobs WHERE job_id = \(jobId) RETURNING owner", logger: logger)
            // Tells the other replicas to drop the history from their caches.
            for try await owner in owners.decode(String.self) {
                let payload = StatusChannel.payload(jobId: jobId, owner: owner)
                try await connection.query("SELECT pg_notify(\(StatusChannel.name), \(payload))", logger: logger).drain()
            }
        }
    }

    func store(_ events: [JobStatusEvent], logger: Logger) async throws -> Int {
        defer {
            for jobId in Set(events.map(\.jobId)) {
                self.histories.invalidate(jobId)
            }
        }
        return try await self.client.withTransaction(logger: logger) { connection in
            var stored = 0
            var changed = Set<String>()
            for event in events {
                try await connection.query(
                    "INSERT INTO status.jobs (job_id, owner) VALUES (\(event.jobId), \(event.owner)) ON CONFLICT (job_id) DO NOTHING",
                    logger: logger
                ).drain()
                let rows = try await connection.query(
                    """
                    INSERT INTO status.job_statuses (event_id, job_id, owner, status, status_date, status_reason)
                    VALUES (\(event.eventId), \(event.jobId), \(event.owner), \(event.status), \(PostgresTimestamp(event.statusDate)), \(event.statusReason))
                    ON CONFLICT (event_id) DO NOTHING
                    RETURNING seq
                    """,
                    logger: logger)
                for try await _ in rows {
                    stored += 1
                    changed.insert(StatusChannel.payload(jobId: event.jobId, owner: event.owner))
                }
            }
            // Delivered at commit: waiters never see a notification before the rows.
            for payload in changed {
                try await connection.query("SELECT pg_notify(\(StatusChannel.name), \(payload))", logger: logger).drain()
            }
            return stored
        }
    }

    func jobExists(jobId: String, owner: String, logger: Logger) async throws -> Bool {
        let rows = try await self.client.query("SELECT 1 FROM status.jobs WHERE job_id = \(jobId) AND owner = \(owner)", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Drops the cached history of job `jobId` (another replica changed it), or all of them.
    func invalidateCachedHistories(jobId: String? = nil) {
        if let jobId {
            self.histories.invalidate(jobId)
        } else {
            self.histories.invalidateAll()
        }
    }

    func history(jobId: String, logger: Logger) async throws -> JobHistory? {
        try await self.histories.value(for: jobId) {
            var owner: String?
            var statuses: [JobStatus] = []
            let limit = Self.cachedHistoryLimit
            for try await (jobOwner, status, date, reason) in try await self.client.execute(
                WholeJobHistory(jobId: jobId, limit: limit + 1), logger: logger) {
                owner = jobOwner
                statuses.append(JobStatus(status: status, statusDate: date, statusReason: reason))
            }
            guard let owner, statuses.count <= limit else { return nil }
            return .keep(JobHistory(owner: owner, statuses: statuses))
        }
    }

    func statuses(owner: String, jobId: String?, after: Date?, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [JobStatus]) {
        // Prepared statements, page and total in one round trip.
        let rows = if let jobId {
            try await self.client.execute(
                JobHistoryPage(jobId: jobId, owner: owner, after: after, limit: page.limit, offset: page.offset), logger: logger)
        } else {
            try await self.client.execute(OwnerFeedPage(owner: owner, after: after, limit: page.limit, offset: page.offset), logger: logger)
        }
        var statuses: [JobStatus] = []
        var count = 0
        for try await (job, status, date, reason, total) in rows {
            statuses.append(JobStatus(status: status, statusDate: date, statusReason: reason, jobId: jobId == nil ? job : nil))
            count = total
        }
        if statuses.isEmpty && page.offset > 0 {
            // Past the last page: the total still decides between an empty page and 404.
            var binds = PostgresBindings()
            if let jobId {
                binds.append(jobId)
            }
            binds.append(owner)
            binds.append(after.map(PostgresTimestamp.init))
            let filter = jobId == nil ? OwnerFeedPage.filter : JobHistoryPage.filter
            count = try await self.client.count(from: "status.job_statuses", where: filter, binds: binds, logger: logger)
        }
        return (count, statuses)
    }
}

/// A job's whole history (up to `limit` entries) and its owner, newest first (on the
/// `job_statuses_job` index).
struct WholeJobHistory: PostgresPreparedStatement {
    static let sql = """
        SELECT owner, status, status_date, status_reason FROM status.job_statuses WHERE job_id = $1
        ORDER BY status_date DESC, seq DESC LIMIT $2
        """
    typealias Row = (String, String, Date, String?)

    var jobId: String
    var limit: Int

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(self.jobId)
        binds.append(self.limit)
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}

/// A row of a status page: job, status, date, reason, and the total of the whole list (a
/// window count, so that page and total take one round trip).
typealias StatusPageRow = (String, String, Date, String?, Int)

/// The statement of a status page filtered by `filter`, newest first. History and feed are
/// separate statements so that each keeps a plan on its own index: one statement with an
/// optional job (`$2 IS NULL OR job_id = $2`) got a generic plan that scanned all of the
/// owner's statuses to show one job's.
private func statusPageSQL(filter: String, limit: String, offset: String) -> String {
    """
    SELECT job_id, status, status_date, status_reason, count(*) OVER () FROM status.job_statuses WHERE \(filter)
    ORDER BY status_date DESC, seq DESC LIMIT \(limit) OFFSET \(offset)
    """
}

/// One page of a job's history (on the `job_statuses_job` index).
struct JobHistoryPage: PostgresPreparedStatement {
    static let filter = "job_id = $1 AND owner = $2 AND ($3::timestamptz IS NULL OR status_date > $3)"
    static let sql = statusPageSQL(filter: filter, limit: "$4", offset: "$5")
    typealias Row = StatusPageRow

    var jobId: String
    var owner: String
    var after: Date?
    var limit: Int
    var offset: Int

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(self.jobId)
        binds.append(self.owner)
        binds.append(self.after.map(PostgresTimestamp.init))
        binds.append(self.limit)
        binds.append(self.offset)
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}

/// One page of an owner's changes across jobs (on the `job_statuses_owner` index).
struct OwnerFeedPage: PostgresPreparedStatement {
    static let filter = "owner = $1 AND ($2::timestamptz IS NULL OR status_date > $2)"
    static let sql = statusPageSQL(filter: filter, limit: "$3", offset: "$4")
    typealias Row = StatusPageRow

    var owner: String
    var after: Date?
    var limit: Int
    var offset: Int

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(self.owner)
        binds.append(self.after.map(PostgresTimestamp.init))
        binds.append(self.limit)
        binds.append(self.offset)
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}
