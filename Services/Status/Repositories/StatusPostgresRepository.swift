import Foundation
import Logging
import PostgresNIO
import SimforgeModels
import SimforgeServer

/// ``StatusRepository`` on the `status` schema.
struct StatusPostgresRepository: StatusRepository {
    let client: PostgresClient

    func register(_ job: JobRegistration, logger: Logger) async throws {
        try await self.client.query(
            "INSERT INTO status.jobs (job_id, owner) VALUES (\(job.jobId), \(job.owner)) ON CONFLICT (job_id) DO NOTHING", logger: logger
        ).drain()
    }

    func forget(jobId: String, logger: Logger) async throws {
        try await self.client.withTransaction(logger: logger) { connection in
            try await connection.query("DELETE FROM status.job_statuses WHERE job_id = \(jobId)", logger: logger).drain()
            try await connection.query("DELETE FROM status.jobs WHERE job_id = \(jobId)", logger: logger).drain()
        }
    }

    func store(_ events: [JobStatusEvent], logger: Logger) async throws -> Int {
        try await self.client.withTransaction(logger: logger) { connection in
            var stored = 0
            var owners = Set<String>()
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
                    owners.insert(event.owner)
                }
            }
            // Delivered at commit: waiters never see a notification before the rows.
            for owner in owners {
                try await connection.query("SELECT pg_notify(\(StatusChannel.name), \(owner))", logger: logger).drain()
            }
            return stored
        }
    }

    func jobExists(jobId: String, owner: String, logger: Logger) async throws -> Bool {
        let rows = try await self.client.query("SELECT 1 FROM status.jobs WHERE job_id = \(jobId) AND owner = \(owner)", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    func statuses(owner: String, jobId: String?, after: Date?, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [JobStatus]) {
        // The hottest read of the service: a prepared statement, page and total in one round trip.
        let rows = try await self.client.execute(
            StatusPage(owner: owner, jobId: jobId, after: after, limit: page.limit, offset: page.offset), logger: logger)
        var statuses: [JobStatus] = []
        var count = 0
        for try await (job, status, date, reason, total) in rows {
            statuses.append(JobStatus(status: status, statusDate: date, statusReason: reason, jobId: jobId == nil ? job : nil))
            count = total
        }
        if statuses.isEmpty && page.offset > 0 {
            // Past the last page: the total still decides between an empty page and 404.
            var binds = PostgresBindings()
            binds.append(owner)
            binds.append(jobId)
            binds.append(after.map(PostgresTimestamp.init))
            count = try await self.client.count(from: "status.job_statuses", where: StatusPage.filter, binds: binds, logger: logger)
        }
        return (count, statuses)
    }
}

/// One page of a history or feed, newest first, with the total alongside (a window count).
struct StatusPage: PostgresPreparedStatement {
    static let filter = "owner = $1 AND ($2::text IS NULL OR job_id = $2) AND ($3::timestamptz IS NULL OR status_date > $3)"
    static let sql = """
        SELECT job_id, status, status_date, status_reason, count(*) OVER () FROM status.job_statuses WHERE \(filter)
        ORDER BY status_date DESC, seq DESC LIMIT $4 OFFSET $5
        """
    typealias Row = (String, String, Date, String?, Int)

    var owner: String
    var jobId: String?
    var after: Date?
    var limit: Int
    var offset: Int

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(self.owner)
        binds.append(self.jobId)
        binds.append(self.after.map(PostgresTimestamp.init))
        binds.append(self.limit)
        binds.append(self.offset)
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}
