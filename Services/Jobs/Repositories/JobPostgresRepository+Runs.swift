import Foundation
import Logging
import PostgresNIO
import SimforgeModels
import SimforgeServer

extension JobPostgresRepository {
    static let runColumns = """
        job_id, run_id, display_order, state, status_reason, date_started, date_completed, exit_code, output_file_count,
        output_file_size, variables::text
        """

    func apply(_ change: JobChange, logger: Logger) async throws -> JobChangeOutcome {
        try await self.client.withTransaction(logger: logger) { connection -> JobChangeOutcome in
            guard var job = try await Self.lock(id: change.jobId, owner: change.owner, on: connection, logger: logger) else {
                return .notFound
            }
            let now = Date().wholeMicroseconds
            var moved: [String] = []
            if let target = change.to {
                moved = try await Self.moveRuns(change, to: target, at: now, on: connection, logger: logger)
                if !moved.isEmpty, DispatchChannel.wakingStates.contains(target) {
                    // Delivered at commit, to whichever replica leads the dispatchers.
                    try await connection.query("SELECT pg_notify(\(DispatchChannel.name), '')", logger: logger).drain()
                }
            }
            job = try await Self.follow(job, requested: change.requested, at: now, on: connection, logger: logger)
            return .applied(job: job, movedRuns: moved)
        }
    }

    /// Moves the job as ``Lifecycle`` says after its runs changed (or its user asked for
    /// `requested`): each status recorded for the history, with the cluster statuses.
    static func follow(_ job: StoredJob, requested: JobState?, at now: Date, on connection: PostgresConnection, logger: Logger)
        async throws -> StoredJob {
        let runs = try await Self.runCounts(jobId: job.id, on: connection, logger: logger)
        let steps = Lifecycle.jobSteps(current: job.state, runs: runs, requested: requested)
        guard !steps.isEmpty else { return job }
        var job = job
        var dispatched = try await Self.hasClusterStatus(jobId: job.id, on: connection, logger: logger)
        for step in steps {
            job = try await Self.record(step.state, reason: step.reason, of: job, at: now, on: connection, logger: logger)
            for status in Lifecycle.clusterStatuses(to: step.state, dispatched: dispatched) {
                try await connection.query(
                    """
                    INSERT INTO jobs.cluster_statuses (job_id, status, status_date)
                    VALUES (\(job.id), \(status), \(PostgresTimestamp(job.lastStatusDate ?? now)))
                    """,
                    logger: logger
                ).drain()
                dispatched = true
            }
        }
        return job
    }

    /// Moves the change's runs that are in its `from` states to `target`; their ids.
    private static func moveRuns(_ change: JobChange, to target: JobState, at now: Date, on connection: PostgresConnection, logger: Logger)
        async throws -> [String] {
        let update = change.update ?? RunUpdate()
        let rows = try await connection.query(
            """
            UPDATE jobs.runs SET state = \(target.rawValue), state_date = \(PostgresTimestamp(now)),
                status_reason = CASE WHEN state = 'stopping' THEN coalesce(\(update.reasonIfStopping), \(update.reason), status_reason)
                    ELSE coalesce(\(update.reason), status_reason) END,
                succeeded = CASE WHEN state = 'stopping' THEN false ELSE coalesce(\(update.succeeded), succeeded) END,
                date_started = coalesce(\(update.dateStarted.map(PostgresTimestamp.init)), date_started),
                date_completed = coalesce(\(update.dateCompleted.map(PostgresTimestamp.init)), date_completed),
                exit_code = coalesce(\(update.exitCode), exit_code),
                output_file_count = coalesce(\(update.outputFileCount), output_file_count),
                output_file_size = coalesce(\(update.outputFileSize), output_file_size)
            WHERE job_id = \(change.jobId) AND state = ANY(\(change.from.map(\.rawValue)))
                AND (\(change.runs)::text[] IS NULL OR run_id = ANY(\(change.runs)))
            RETURNING run_id
            """,
            logger: logger)
        var moved: [String] = []
        for try await id in rows.decode(String.self) { moved.append(id) }
        return moved
    }

    /// How the job's runs stand now.
    private static func runCounts(jobId: String, on connection: PostgresConnection, logger: Logger) async throws -> Lifecycle.Runs {
        let rows = try await connection.query(
            """
            SELECT state, count(*)::integer, (count(*) FILTER (WHERE succeeded))::integer, min(status_reason)
            FROM jobs.runs WHERE job_id = \(jobId) GROUP BY state
            """,
            logger: logger)
        var runs = Lifecycle.Runs(total: 0, completed: 0, succeeded: 0, furthest: nil, onlyReason: nil)
        for try await (stateName, count, succeeded, reason) in rows.decode((String, Int, Int, String?).self) {
            guard let state = JobState(rawValue: stateName) else { continue }
            runs.total += count
            runs.succeeded += succeeded
            if state == .completed {
                runs.completed += count
                runs.onlyReason = reason
            } else if runs.furthest.map({ state > $0 }) ?? true {
                runs.furthest = state
            }
        }
        if runs.total != 1 { runs.onlyReason = nil }
        return runs
    }

    private static func hasClusterStatus(jobId: String, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("SELECT 1 FROM jobs.cluster_statuses WHERE job_id = \(jobId) LIMIT 1", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Moves the job to `state` and queues the status for the history. Each job's history
    /// is strictly increasing in time: ties move by a microsecond.
    private static func record(_ state: JobState, reason: String?, of job: StoredJob, at now: Date, on connection: PostgresConnection,
                               logger: Logger) async throws -> StoredJob {
        let date = job.lastStatusDate.map { max(now, $0.addingTimeInterval(0.000001).wholeMicroseconds) } ?? now
        try await connection.query(
            """
            UPDATE jobs.jobs SET state = \(state.rawValue), status_reason = \(reason), last_status_date = \(PostgresTimestamp(date))
            WHERE id = \(job.id)
            """,
            logger: logger
        ).drain()
        if let status = state.statusName {
            let event = JobStatusEvent(
                eventId: ShortID.make(length: 22), jobId: job.id, owner: job.owner, status: status, statusDate: date, statusReason: reason)
            try await Self.enqueue(.status, jobId: job.id, payload: try Self.encode(event), on: connection, logger: logger)
        }
        var job = job
        job.state = state
        job.statusReason = reason
        job.lastStatusDate = date
        return job
    }

    func runs(jobId: String, owner: String, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [StoredRun])? {
        guard let job = try await self.job(id: jobId, owner: owner, logger: logger) else { return nil }
        let rows = try await self.client.query(
            """
            SELECT \(unescaped: Self.runColumns) FROM jobs.runs WHERE job_id = \(jobId)
            ORDER BY display_order LIMIT \(page.limit) OFFSET \(page.offset)
            """,
            logger: logger)
        return (job.expectedRuns, try await Self.decodeRuns(rows))
    }

    func run(jobId: String, runId: String, owner: String, logger: Logger) async throws -> StoredRun? {
        let rows = try await self.client.query(
            """
            SELECT \(unescaped: Self.runColumns) FROM jobs.runs
            WHERE job_id = \(jobId) AND run_id = \(runId) AND EXISTS (SELECT 1 FROM jobs.jobs WHERE id = \(jobId) AND owner = \(owner))
            """,
            logger: logger)
        return try await Self.decodeRuns(rows).first
    }

    func clusterStatuses(jobId: String, owner: String, page: PageRequest, logger: Logger) async throws -> (count: Int, items: [JobStatus])? {
        guard try await self.job(id: jobId, owner: owner, logger: logger) != nil else { return nil }
        var binds = PostgresBindings()
        binds.append(jobId)
        let count = try await self.client.count(from: "jobs.cluster_statuses", where: "job_id = $1", binds: binds, logger: logger)
        let rows = try await self.client.query(
            """
            SELECT status, status_date FROM jobs.cluster_statuses WHERE job_id = \(jobId)
            ORDER BY status_date DESC LIMIT \(page.limit) OFFSET \(page.offset)
            """,
            logger: logger)
        var statuses: [JobStatus] = []
        for try await (status, date) in rows.decode((String, Date).self) {
            statuses.append(JobStatus(status: status, statusDate: date, statusReason: nil))
        }
        return (count, statuses)
    }

    static func decodeRuns(_ rows: PostgresRowSequence) async throws -> [StoredRun] {
        var runs: [StoredRun] = []
        let decoder = JSONDecoder.simforge()
        for try await (jobId, id, order, state, reason, started, completed, exitCode, count, size, variables)
            in rows.decode((String, String, Int, String, String?, Date?, Date?, Int?, Int, Int64, String).self) {
            runs.append(StoredRun(
                jobId: jobId, id: id, displayOrder: order, state: JobState(rawValue: state) ?? .created, statusReason: reason,
                dateStarted: started, dateCompleted: completed, exitCode: exitCode, outputFileCount: count, outputFileSize: size,
                variables: try decoder.decode([RunVariable].self, from: Data(variables.utf8))))
        }
        return runs
    }
}
