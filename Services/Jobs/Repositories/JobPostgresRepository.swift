import Foundation
import Logging
import PostgresNIO
import SimforgeModels
import SimforgeServer

/// ``JobRepository`` on the `jobs` schema. The specs of submitted jobs, read by id, are kept
/// in a ``ReadCache``; ``update(_:runs:logger:)`` and ``delete(id:owner:logger:)`` drop a
/// job's before they answer, and other replicas' through a notification on ``JobSpecChannel``.
struct JobPostgresRepository: JobRepository {
    let client: PostgresClient
    let specs: ReadCache<String, StoredSpec>

    init(client: PostgresClient, cachedSpecs: Int = ReadCacheSettings.defaultEntries) {
        self.client = client
        self.specs = ReadCache(name: "job_specs", capacity: cachedSpecs)
    }

    static let columns = "id, owner, spec::text, analysis_names, state, status_reason, last_status_date, date_inserted, expected_runs"

    func create(_ job: StoredJob, runs: [PlannedRun], logger: Logger) async throws {
        let spec = try Self.encode(job.spec)
        let registration = try Self.encode(JobRegistration(jobId: job.id, owner: job.owner))
        try await self.client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO jobs.jobs (id, owner, name, spec, analysis_names, state, date_inserted, expected_runs)
                VALUES (\(job.id), \(job.owner), \(job.spec.name), \(spec)::jsonb, \(job.analysisNames), \(job.state.rawValue),
                    \(job.dateInserted), \(runs.count))
                """,
                logger: logger
            ).drain()
            try await Self.insertRuns(runs, jobId: job.id, on: connection, logger: logger)
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
                // Not submitted yet: it may still change in every way.
                return state == JobState.created.rawValue ? .once(stored) : .keep(stored)
            }
            return nil
        }
        return stored?.owner == owner ? stored : nil
    }

    /// Drops the cached spec of job `id` (another replica changed or deleted it), or all of them.
    func invalidateCachedSpecs(id: String? = nil) {
        if let id {
            self.specs.invalidate(id)
        } else {
            self.specs.invalidateAll()
        }
    }

    func summaries(owner: String, completed: Bool?, state: JobState?, search: String?, page: PageRequest, logger: Logger) async throws
        -> (count: Int, items: [JobSummary]) {
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
                unsafeSQL: """
                    SELECT \(Self.columns),
                        (SELECT coalesce(sum(r.output_file_size), 0)::bigint FROM jobs.runs r WHERE r.job_id = j.id),
                        (SELECT c.status FROM jobs.cluster_statuses c WHERE c.job_id = j.id ORDER BY c.status_date DESC LIMIT 1)
                    FROM jobs.jobs j WHERE \(filter) ORDER BY date_inserted DESC, id LIMIT $5 OFFSET $6
                    """,
                binds: binds),
            logger: logger)
        var summaries: [JobSummary] = []
        for try await (id, owner, spec, names, state, reason, lastDate, inserted, expected, storage, cluster)
            in rows.decode((String, String, String, [String], String, String?, Date?, Date, Int, Int64, String?).self) {
            let job = try Self.storedJob((id, owner, spec, names, state, reason, lastDate, inserted, expected))
            summaries.append(JobSummary(job: job, storage: storage, clusterStatus: cluster))
        }
        return (count, summaries)
    }

    func update(_ job: StoredJob, runs: [PlannedRun]?, logger: Logger) async throws -> ChangeOutcome {
        let spec = try Self.encode(job.spec)
        defer { self.specs.invalidate(job.id) }
        return try await self.client.withTransaction(logger: logger) { connection -> ChangeOutcome in
            guard let current = try await Self.lock(id: job.id, owner: job.owner, on: connection, logger: logger) else { return .notFound }
            if let runs {
                guard current.state == .created else { return .conflict(current.state) }
                try await connection.query("DELETE FROM jobs.runs WHERE job_id = \(job.id)", logger: logger).drain()
                try await Self.insertRuns(runs, jobId: job.id, on: connection, logger: logger)
            }
            let rows = try await connection.query(
                """
                UPDATE jobs.jobs SET name = \(job.spec.name), spec = \(spec)::jsonb, analysis_names = \(job.analysisNames),
                    expected_runs = coalesce(\(runs?.count), expected_runs)
                WHERE id = \(job.id) RETURNING \(unescaped: Self.columns)
                """,
                logger: logger)
            try await connection.query("SELECT pg_notify(\(JobSpecChannel.name), \(job.id))", logger: logger).drain()
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

    // MARK: - Helpers

    static func lock(id: String, owner: String, on connection: PostgresConnection, logger: Logger) async throws -> StoredJob? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.columns) FROM jobs.jobs WHERE id = \(id) AND owner = \(owner) FOR UPDATE", logger: logger)
        return try await Self.decode(rows).first
    }

    private static func insertRuns(_ runs: [PlannedRun], jobId: String, on connection: PostgresConnection, logger: Logger) async throws {
        let numbers = runs.map(\.number)
        let variables = try runs.map { try Self.encode($0.variables) }
        try await connection.query(
            """
            INSERT INTO jobs.runs (job_id, run_id, display_order, variables, state)
            SELECT \(jobId), planned.number::text, planned.number, planned.variables::jsonb, 'created'
            FROM unnest(\(numbers)::integer[], \(variables)::text[]) AS planned(number, variables)
            """,
            logger: logger
        ).drain()
    }

    static func enqueue(_ kind: OutboxEntry.Kind, jobId: String, payload: String, on connection: PostgresConnection, logger: Logger)
        async throws {
        try await connection.query(
            """
            INSERT INTO jobs.outbox (event_id, kind, job_id, payload)
            VALUES (\(ShortID.make(length: 22)), \(kind.rawValue), \(jobId), \(payload)::jsonb)
            """,
            logger: logger
        ).drain()
    }

    /// A row of ``columns``.
    typealias Row = (String, String, String, [String], String, String?, Date?, Date, Int)

    static func decode(_ rows: PostgresRowSequence) async throws -> [StoredJob] {
        var jobs: [StoredJob] = []
        for try await row in rows.decode(Row.self) {
            jobs.append(try Self.storedJob(row))
        }
        return jobs
    }

    fileprivate static func storedJob(_ row: Row) throws -> StoredJob {
        let (id, owner, spec, names, state, reason, lastDate, inserted, expectedRuns) = row
        var job = try JSONDecoder.simforge().decode(Job.self, from: Data(spec.utf8))
        job.id = id
        job.owner = owner
        return StoredJob(
            id: id, owner: owner, spec: job, analysisNames: names, state: JobState(rawValue: state) ?? .created,
            statusReason: reason, lastStatusDate: lastDate, dateInserted: inserted, expectedRuns: expectedRuns)
    }

    static func encode(_ value: some Encodable) throws -> String {
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
