import Foundation
import Logging
import PostgresNIO
import SimforgeModels
import SimforgeServer

/// ``JobRepository`` on the `jobs` schema. The specs of submitted jobs, read by id, are kept
/// in a ``ReadCache``: once submitted a spec never changes, and only
/// ``delete(id:owner:logger:)`` removes it, dropping it from this replica's cache before it
/// answers and from the others' through a notification on ``JobSpecChannel``.
struct JobPostgresRepository: JobRepository {
    let client: PostgresClient
    let specs: ReadCache<String, StoredSpec>

    init(client: PostgresClient, cachedSpecs: Int = ReadCacheSettings.defaultEntries) {
        self.client = client
        self.specs = ReadCache(name: "job_specs", capacity: cachedSpecs)
    }

    static let columns = "id, owner, spec::text, analysis_names, state, status_reason, last_status_date, date_inserted, backend_ref"

    func create(_ job: StoredJob, logger: Logger) async throws {
        let spec = try Self.encode(job.spec)
        let registration = try Self.encode(JobRegistration(jobId: job.id, owner: job.owner))
        try await self.client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO jobs.jobs (id, owner, name, spec, analysis_names, state, date_inserted)
                VALUES (\(job.id), \(job.owner), \(job.spec.name), \(spec)::jsonb, \(job.analysisNames), \(job.state.rawValue), \(job.dateInserted))
                """,
                logger: logger
            ).drain()
            try await Self.enqueue(.register, jobId: job.id, payload: registration, on: connection, logger: logger)
        }
    }

    func job(id: String, owner: String, logger: Logger) async throws -> StoredJob? {
        for try await row in try await self.client.execute(JobByID(id: id, owner: owner), logger: logger) {
            return try Self.storedJob(row)
        }
        return nil
    }

    func storedSpec(id: String, owner: String, logger: Logger) async throws -> StoredSpec? {
        // The hottest read of the service: cached, a prepared statement when not.
        let stored = try await self.specs.value(for: id) {
            for try await (owner, state, spec) in try await self.client.execute(JobSpecByID(id: id), logger: logger) {
                let stored = StoredSpec(owner: owner, text: spec)
                // Not submitted yet: PATCH may still change it.
                return state == JobState.created.rawValue ? .once(stored) : .keep(stored)
            }
            return nil
        }
        return stored?.owner == owner ? stored : nil
    }

    /// Drops the cached spec of job `id` (another replica deleted it), or all of them.
    func invalidateCachedSpecs(id: String? = nil) {
        if let id {
            self.specs.invalidate(id)
        } else {
            self.specs.invalidateAll()
        }
    }

    func jobs(owner: String, completed: Bool?, state: JobState?, search: String?, page: PageRequest, logger: Logger) async throws
        -> (count: Int, items: [StoredJob]) {
        let filter = """
            owner = $1 AND ($2::boolean IS NULL OR (state = 'completed') = $2) AND ($3::text IS NULL OR state = $3)
            AND ($4::text IS NULL OR strpos(lower(name), lower($4)) > 0)
            """
        var binds = PostgresBindings()
        binds.append(owner)
        binds.append(completed)
        binds.append(state?.rawValue)
        binds.append(search)
        let count = try await self.client.count(from: "jobs.jobs", where: filter, binds: binds, logger: logger)
        binds.append(page.limit)
        binds.append(page.offset)
        let rows = try await self.client.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM jobs.jobs WHERE \(filter) ORDER BY date_inserted DESC, id LIMIT $5 OFFSET $6",
                binds: binds),
            logger: logger)
        return (count, try await Self.decode(rows))
    }

    func update(_ job: StoredJob, logger: Logger) async throws -> ChangeOutcome {
        let spec = try Self.encode(job.spec)
        return try await self.client.withTransaction(logger: logger) { connection -> ChangeOutcome in
            guard let current = try await Self.lock(id: job.id, owner: job.owner, on: connection, logger: logger) else { return .notFound }
            guard current.state == .created else { return .conflict(current.state) }
            let rows = try await connection.query(
                """
                UPDATE jobs.jobs SET name = \(job.spec.name), spec = \(spec)::jsonb, analysis_names = \(job.analysisNames)
                WHERE id = \(job.id) RETURNING \(unescaped: Self.columns)
                """,
                logger: logger)
            return try await Self.decode(rows).first.map(ChangeOutcome.done) ?? .notFound
        }
    }

    func delete(id: String, owner: String, logger: Logger) async throws -> ChangeOutcome {
        let payload = try Self.encode(JobRegistration(jobId: id, owner: owner))
        defer { self.specs.invalidate(id) }
        return try await self.client.withTransaction(logger: logger) { connection -> ChangeOutcome in
            guard let current = try await Self.lock(id: id, owner: owner, on: connection, logger: logger) else { return .notFound }
            guard !current.state.isActive else { return .conflict(current.state) }
            try await connection.query("DELETE FROM jobs.jobs WHERE id = \(id)", logger: logger).drain()
            try await connection.query("SELECT pg_notify(\(JobSpecChannel.name), \(id))", logger: logger).drain()
            try await Self.enqueue(.forget, jobId: id, payload: payload, on: connection, logger: logger)
            return .done(current)
        }
    }

    func transition(
        id: String, owner: String, from: Set<JobState>, to: JobState, reason: String?, run: RunUpdate?, backendReference: String?,
        logger: Logger
    ) async throws -> TransitionOutcome {
        try await self.client.withTransaction(logger: logger) { connection -> TransitionOutcome in
            guard var job = try await Self.lock(id: id, owner: owner, on: connection, logger: logger) else { return .notFound }
            guard from.contains(job.state), let status = to.statusName else { return .unchanged(job) }
            // Each job's history is strictly increasing in time: ties move by a microsecond.
            let now = Date().wholeMicroseconds
            let date = job.lastStatusDate.map { max(now, $0.addingTimeInterval(0.000001).wholeMicroseconds) } ?? now
            try await connection.query(
                """
                UPDATE jobs.jobs SET state = \(to.rawValue), status_reason = \(reason), last_status_date = \(PostgresTimestamp(date)),
                    backend_ref = coalesce(\(backendReference), backend_ref)
                WHERE id = \(id)
                """,
                logger: logger
            ).drain()
            if job.state == .created {
                try await connection.query("INSERT INTO jobs.runs (job_id, run_id) VALUES (\(id), '1')", logger: logger).drain()
            }
            if let run {
                try await connection.query(
                    """
                    UPDATE jobs.runs SET date_started = coalesce(\(run.dateStarted), date_started),
                        date_completed = coalesce(\(run.dateCompleted), date_completed), exit_code = coalesce(\(run.exitCode), exit_code),
                        output_file_count = coalesce(\(run.outputFileCount), output_file_count),
                        output_file_size = coalesce(\(run.outputFileSize), output_file_size)
                    WHERE job_id = \(id) AND run_id = '1'
                    """,
                    logger: logger
                ).drain()
            }
            let event = JobStatusEvent(
                eventId: ShortID.make(length: 22), jobId: id, owner: owner, status: status, statusDate: date, statusReason: reason)
            try await Self.enqueue(.status, jobId: id, payload: try Self.encode(event), on: connection, logger: logger)
            job.state = to
            job.statusReason = reason
            job.lastStatusDate = date
            job.backendReference = backendReference ?? job.backendReference
            return .moved(job)
        }
    }

    func runs(jobId: String, owner: String, logger: Logger) async throws -> [Run]? {
        guard try await self.job(id: jobId, owner: owner, logger: logger) != nil else { return nil }
        let rows = try await self.client.query(
            """
            SELECT run_id, date_started, date_completed, exit_code, output_file_count, output_file_size
            FROM jobs.runs WHERE job_id = \(jobId) ORDER BY run_id
            """,
            logger: logger)
        var runs: [Run] = []
        for try await (id, started, completed, exitCode, count, size) in rows.decode((String, Date?, Date?, Int?, Int, Int64).self) {
            runs.append(Run(id: id, displayOrder: runs.count, dateStarted: started, dateCompleted: completed,
                            outputFileCount: count, outputFileSize: size, parent: nil, exitCode: exitCode))
        }
        return runs
    }

    func pending(limit: Int, logger: Logger) async throws -> [StoredJob] {
        let rows = try await self.client.query(
            "SELECT \(unescaped: Self.columns) FROM jobs.jobs WHERE state = 'pending' ORDER BY last_status_date, id LIMIT \(limit)",
            logger: logger)
        return try await Self.decode(rows)
    }

    func dispatched(logger: Logger) async throws -> [StoredJob] {
        let rows = try await self.client.query(
            """
            SELECT \(unescaped: Self.columns) FROM jobs.jobs
            WHERE state IN ('queued', 'started', 'validated', 'executing', 'stopping')
            """,
            logger: logger)
        return try await Self.decode(rows)
    }

    func setBackendReference(id: String, reference: String, logger: Logger) async throws {
        try await self.client.query("UPDATE jobs.jobs SET backend_ref = \(reference) WHERE id = \(id)", logger: logger).drain()
    }

    func heartbeat(id: String, owner: String, logger: Logger) async throws -> JobState? {
        let rows = try await self.client.query(
            "UPDATE jobs.jobs SET agent_seen_at = now() WHERE id = \(id) AND owner = \(owner) RETURNING state", logger: logger)
        for try await state in rows.decode(String.self) {
            return JobState(rawValue: state)
        }
        return nil
    }

    func silent(for timeout: Duration, logger: Logger) async throws -> [StoredJob] {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let rows = try await self.client.query(
            """
            SELECT \(unescaped: Self.columns) FROM jobs.jobs
            WHERE state IN ('started', 'validated', 'executing', 'stopping')
                AND greatest(agent_seen_at, last_status_date) < now() - make_interval(secs => \(seconds))
            """,
            logger: logger)
        return try await Self.decode(rows)
    }

    func undelivered(limit: Int, logger: Logger) async throws -> [OutboxEntry] {
        let rows = try await self.client.query(
            "SELECT seq, kind, job_id, payload::text FROM jobs.outbox WHERE delivered_at IS NULL ORDER BY seq LIMIT \(limit)", logger: logger)
        var entries: [OutboxEntry] = []
        for try await (sequence, kind, jobId, payload) in rows.decode((Int64, String, String, String).self) {
            guard let kind = OutboxEntry.Kind(rawValue: kind) else { continue }
            entries.append(OutboxEntry(sequence: sequence, kind: kind, jobId: jobId, payload: Data(payload.utf8)))
        }
        return entries
    }

    func markDelivered(_ sequence: [Int64], logger: Logger) async throws {
        try await self.client.query(
            "UPDATE jobs.outbox SET delivered_at = now() WHERE seq = ANY(\(sequence))", logger: logger
        ).drain()
    }

    // MARK: - Helpers

    private static func lock(id: String, owner: String, on connection: PostgresConnection, logger: Logger) async throws -> StoredJob? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.columns) FROM jobs.jobs WHERE id = \(id) AND owner = \(owner) FOR UPDATE", logger: logger)
        return try await Self.decode(rows).first
    }

    private static func enqueue(_ kind: OutboxEntry.Kind, jobId: String, payload: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO jobs.outbox (event_id, kind, job_id, payload)
            VALUES (\(ShortID.make(length: 22)), \(kind.rawValue), \(jobId), \(payload)::jsonb)
            """,
            logger: logger
        ).drain()
    }

    /// A row of ``columns``.
    typealias Row = (String, String, String, [String], String, String?, Date?, Date, String?)

    private static func decode(_ rows: PostgresRowSequence) async throws -> [StoredJob] {
        var jobs: [StoredJob] = []
        for try await row in rows.decode(Row.self) {
            jobs.append(try Self.storedJob(row))
        }
        return jobs
    }

    fileprivate static func storedJob(_ row: Row) throws -> StoredJob {
        let (id, owner, spec, names, state, reason, lastDate, inserted, backendReference) = row
        var job = try JSONDecoder.simforge().decode(Job.self, from: Data(spec.utf8))
        job.id = id
        job.owner = owner
        return StoredJob(
            id: id, owner: owner, spec: job, analysisNames: names, state: JobState(rawValue: state) ?? .created,
            statusReason: reason, lastStatusDate: lastDate, dateInserted: inserted, backendReference: backendReference)
    }

    private static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder.simforge().encode(value), as: UTF8.self)
    }
}

/// One job of one owner, by id.
struct JobByID: PostgresPreparedStatement {
    static let sql = "SELECT \(JobPostgresRepository.columns) FROM jobs.jobs WHERE id = $1 AND owner = $2"
    typealias Row = JobPostgresRepository.Row

    var id: String
    var owner: String

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(self.id)
        binds.append(self.owner)
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}

/// The owner, state and stored spec of one job, by id.
struct JobSpecByID: PostgresPreparedStatement {
    static let sql = "SELECT owner, state, spec::text FROM jobs.jobs WHERE id = $1"
    typealias Row = (String, String, String)

    var id: String

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(self.id)
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}
