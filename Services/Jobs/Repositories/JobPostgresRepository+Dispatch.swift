import Foundation
import Logging
import PostgresNIO
import SimforgeModels
import SimforgeServer

extension JobPostgresRepository {
    func claimPendingRuns(limit: Int, slotsLimitRuns: Bool, logger: Logger) async throws -> [DispatchWork] {
        try await self.client.withTransaction(logger: logger) { connection -> [DispatchWork] in
            // Jobs with runs waiting; another replica's claim in progress is skipped, not waited for.
            let jobs = try await Self.decode(try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM jobs.jobs j
                WHERE state = ANY(\([JobState.pending, .queued, .started, .validated, .executing].map(\.rawValue)))
                    AND EXISTS (SELECT 1 FROM jobs.runs r WHERE r.job_id = j.id AND r.state = \(JobState.pending.rawValue))
                ORDER BY last_status_date, id LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
                """,
                logger: logger))
            var work: [DispatchWork] = []
            for var job in jobs {
                var take = Int.max
                if slotsLimitRuns {
                    let slots = job.spec.jobanalyses.first?.hardware.slots ?? 1
                    take = max(0, slots - (try await Self.activeRuns(jobId: job.id, on: connection, logger: logger)))
                }
                guard take > 0 else { continue }
                let rows = try await connection.query(
                    """
                    UPDATE jobs.runs SET state = \(JobState.queued.rawValue), state_date = now()
                    WHERE job_id = \(job.id) AND run_id IN (
                        SELECT run_id FROM jobs.runs WHERE job_id = \(job.id) AND state = \(JobState.pending.rawValue) ORDER BY display_order
                        LIMIT \(min(take, 100_000)))
                    RETURNING run_id, display_order
                    """,
                    logger: logger)
                var claimed: [(String, Int)] = []
                for try await (id, order) in rows.decode((String, Int).self) { claimed.append((id, order)) }
                guard !claimed.isEmpty else { continue }
                job = try await Self.follow(job, requested: nil, at: Date().wholeMicroseconds, on: connection, logger: logger)
                work.append(DispatchWork(job: job, runs: claimed.sorted { $0.1 < $1.1 }.map(\.0)))
            }
            return work
        }
    }

    private static func activeRuns(jobId: String, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query(
            "SELECT count(*)::integer FROM jobs.runs WHERE job_id = \(jobId) AND state = ANY(\(JobState.dispatched.map(\.rawValue)))",
            logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    func setBackendReferences(jobId: String, references: [String: String], logger: Logger) async throws {
        let runs = Array(references.keys)
        try await self.client.query(
            """
            UPDATE jobs.runs SET backend_ref = given.reference
            FROM unnest(\(runs)::text[], \(runs.map { references[$0]! })::text[]) AS given(run_id, reference)
            WHERE jobs.runs.job_id = \(jobId) AND jobs.runs.run_id = given.run_id
            """,
            logger: logger
        ).drain()
    }

    func dispatchedRuns(logger: Logger) async throws -> [DispatchedRun] {
        try await Self.decodeDispatched(try await self.client.query(
            """
            SELECT r.job_id, j.owner, r.run_id, r.state, r.backend_ref FROM jobs.runs r JOIN jobs.jobs j ON j.id = r.job_id
            WHERE r.state = ANY(\(JobState.dispatched.map(\.rawValue)))
            ORDER BY r.job_id, r.display_order
            """,
            logger: logger))
    }

    func dispatchedRuns(jobId: String, runs: [String], logger: Logger) async throws -> [DispatchedRun] {
        try await Self.decodeDispatched(try await self.client.query(
            """
            SELECT r.job_id, j.owner, r.run_id, r.state, r.backend_ref FROM jobs.runs r JOIN jobs.jobs j ON j.id = r.job_id
            WHERE r.job_id = \(jobId) AND r.run_id = ANY(\(runs)) AND r.state = ANY(\(JobState.dispatched.map(\.rawValue)))
            ORDER BY r.display_order
            """,
            logger: logger))
    }

    func heartbeat(jobId: String, runId: String, owner: String, logger: Logger) async throws -> (run: JobState, job: JobState)? {
        let rows = try await self.client.query(
            """
            UPDATE jobs.runs r SET agent_seen_at = now() FROM jobs.jobs j
            WHERE r.job_id = \(jobId) AND r.run_id = \(runId) AND j.id = r.job_id AND j.owner = \(owner)
            RETURNING r.state, j.state
            """,
            logger: logger)
        for try await (run, job) in rows.decode((String, String).self) {
            guard let run = JobState(rawValue: run), let job = JobState(rawValue: job) else { return nil }
            return (run, job)
        }
        return nil
    }

    func silentRuns(for timeout: Duration, logger: Logger) async throws -> [DispatchedRun] {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return try await Self.decodeDispatched(try await self.client.query(
            """
            SELECT r.job_id, j.owner, r.run_id, r.state, r.backend_ref FROM jobs.runs r JOIN jobs.jobs j ON j.id = r.job_id
            WHERE r.state = ANY(\(JobState.running.map(\.rawValue)))
                AND greatest(r.agent_seen_at, r.state_date) < now() - make_interval(secs => \(seconds))
            """,
            logger: logger))
    }

    private static func decodeDispatched(_ rows: PostgresRowSequence) async throws -> [DispatchedRun] {
        var runs: [DispatchedRun] = []
        for try await (jobId, owner, runId, state, reference) in rows.decode((String, String, String, String, String?).self) {
            guard let state = JobState(rawValue: state) else { continue }
            runs.append(DispatchedRun(jobId: jobId, owner: owner, runId: runId, state: state, backendReference: reference))
        }
        return runs
    }

    func restartAgentWatch(logger: Logger) async throws {
        try await self.client.query(
            "UPDATE jobs.runs SET agent_seen_at = now() WHERE state = ANY(\(JobState.running.map(\.rawValue)))", logger: logger
        ).drain()
    }

    func unsignalledStoppingRuns(logger: Logger) async throws -> [DispatchedRun] {
        try await Self.decodeDispatched(try await self.client.query(
            """
            SELECT r.job_id, j.owner, r.run_id, r.state, r.backend_ref FROM jobs.runs r JOIN jobs.jobs j ON j.id = r.job_id
            WHERE r.state = \(JobState.stopping.rawValue) AND r.backend_ref IS NOT NULL AND r.stop_signalled_at IS NULL
            ORDER BY r.job_id, r.display_order
            """,
            logger: logger))
    }

    func markStopSignalled(_ run: DispatchedRun, logger: Logger) async throws {
        try await self.client.query(
            "UPDATE jobs.runs SET stop_signalled_at = now() WHERE job_id = \(run.jobId) AND run_id = \(run.runId)", logger: logger
        ).drain()
    }

    func relayOutbox(waitingUpTo wait: Duration, prune: Bool, logger: Logger,
                     deliver: @escaping @Sendable ([OutboxEntry]) async throws -> Void) async throws -> RelayPass {
        struct Busy: Error {}
        do {
            return try await self.client.withTransaction(logger: logger) { connection -> RelayPass in
                let milliseconds = Int(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
                if milliseconds > 0 {
                    // SET does not take parameters; the number is ours.
                    try await connection.query("SET LOCAL lock_timeout = \(unescaped: String(milliseconds))", logger: logger).drain()
                    do {
                        try await connection.query("SELECT pg_advisory_xact_lock(\(JobsLocks.outbox))", logger: logger).drain()
                    } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" {
                        throw Busy()
                    }
                } else {
                    let rows = try await connection.query("SELECT pg_try_advisory_xact_lock(\(JobsLocks.outbox))", logger: logger)
                    for try await locked in rows.decode(Bool.self) where !locked { throw Busy() }
                }
                var outcome = RelayPass.drained
                passes: while true {
                    let entries = try await Self.undelivered(limit: 200, on: connection, logger: logger)
                    if entries.isEmpty { break }
                    for group in OutboxEntry.groups(of: entries) {
                        do {
                            try await deliver(group)
                        } catch {
                            outcome = .failed
                            break passes
                        }
                        try await connection.query(
                            "UPDATE jobs.outbox SET delivered_at = now() WHERE seq = ANY(\(group.map(\.sequence)))", logger: logger
                        ).drain()
                    }
                }
                if prune {
                    try await connection.query(
                        """
                        DELETE FROM jobs.outbox WHERE delivered_at IS NOT NULL
                            AND seq <= (SELECT max(seq) FROM jobs.outbox) - \(outboxTail)
                        """,
                        logger: logger
                    ).drain()
                }
                return outcome
            }
        } catch let error as PostgresTransactionError where error.closureError is Busy {
            // withTransaction wraps what its closure threw.
            return .busy
        }
    }

    private static func undelivered(limit: Int, on connection: PostgresConnection, logger: Logger) async throws -> [OutboxEntry] {
        let rows = try await connection.query(
            "SELECT seq, kind, job_id, payload::text FROM jobs.outbox WHERE delivered_at IS NULL ORDER BY seq LIMIT \(limit)",
            logger: logger)
        var entries: [OutboxEntry] = []
        for try await (sequence, kind, jobId, payload) in rows.decode((Int64, String, String, String).self) {
            guard let kind = OutboxEntry.Kind(rawValue: kind) else { continue }
            entries.append(OutboxEntry(sequence: sequence, kind: kind, jobId: jobId, payload: Data(payload.utf8)))
        }
        return entries
    }
}
