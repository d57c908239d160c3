import Foundation
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Synchronization
import Testing
@testable import JobsService

/// Several jobs replicas on one database: the dispatchers' leader lease, the outbox
/// relay's claim, and the outbox's pruning.
@Suite struct ScaleOutTests {
    typealias S = JobsStack
    typealias E = ExecutionTests

    /// 100 jobs created and submitted through two replicas alternately, their agents on the
    /// local backend: every job runs exactly once and its history has no duplicate.
    @Test func jobsSubmittedThroughTwoReplicasEachRunExactlyOnce() async throws {
        try await E.run(.local) { first, stack, work in
            try await stack.withJobsReplica(execution: try E.execution(.local, workDirectory: work)) { second in
                let ledger = work + "/ran.log"
                let command = "echo \"$SIMFORGE_JOB_ID\" >> \(ledger)"
                var ids: [String] = []
                for index in 0..<100 {
                    let job = ParallelTests.job(command, cores: 1)
                    ids.append(try await StepsTests.submit(index.isMultiple(of: 2) ? first : second, job))
                }
                for id in ids {
                    let history = try await E.waitFor("Completed", id, stack, seconds: 120)
                    #expect(history.first?.statusReason == "Completed successfully")
                    let statuses = history.map(\.status)
                    #expect(statuses == ["Completed", "Executing", "Validated", "Started", "Queued", "Pending"], "\(id): \(statuses)")
                }
                let ran = try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n").map(String.init)
                #expect(ran.count == ids.count)
                #expect(Set(ran) == Set(ids), "every job ran, none twice")
            }
        }
    }

    /// Two replicas' relays: one pass at a time (the other is told the outbox is busy), rows
    /// delivered oldest first, and the delivered ones pruned to the last ``outboxTail``.
    @Test func theOutboxRelaysOnePassAtATimeAndKeepsABoundedTail() async throws {
        try await TestPostgres.withFreshDatabase { settings in
            try await TestPostgres.withClient(settings) { client in
                let logger = S.logger("outbox")
                try await JobsMigrations.runner.run(on: client, logger: logger)
                // 1 500 delivered rows, then 5 waiting.
                try await client.query(
                    """
                    INSERT INTO jobs.outbox (event_id, kind, job_id, payload, delivered_at)
                    SELECT 'old-' || n, 'status', 'J' || n, '{}', now() FROM generate_series(1, 1500) n
                    """, logger: logger).drain()
                try await client.query(
                    """
                    INSERT INTO jobs.outbox (event_id, kind, job_id, payload)
                    SELECT 'new-' || n, 'status', 'N' || n, '{}' FROM generate_series(1, 5) n
                    """, logger: logger).drain()
                let replicas = (JobPostgresRepository(client: client), JobPostgresRepository(client: client))
                let delivered = Mutex<[String]>([])
                let entered = AsyncStream<Void>.makeStream()
                let release = AsyncStream<Void>.makeStream()

                // The first pass holds the claim while its delivery waits.
                async let first = replicas.0.relayOutbox(waitingUpTo: .zero, prune: true, logger: logger) { group in
                    entered.continuation.yield()
                    for await _ in release.stream { break }
                    delivered.withLock { $0 += group.map(\.jobId) }
                }
                for await _ in entered.stream { break }
                let second = try await replicas.1.relayOutbox(waitingUpTo: .milliseconds(200), prune: true, logger: logger) { _ in
                    Issue.record("a second pass delivered while the first held the outbox")
                }
                #expect(second == .busy)
                release.continuation.yield()
                #expect(try await first == .drained)
                #expect(delivered.withLock { $0 } == ["N1", "N2", "N3", "N4", "N5"])

                var remaining = 0
                for try await count in try await client.query("SELECT count(*)::int FROM jobs.outbox", logger: logger).decode(Int.self) {
                    remaining = count
                }
                #expect(remaining == outboxTail, "delivered rows beyond the tail are pruned")
                var waiting = -1
                for try await count in try await client.query(
                    "SELECT count(*)::int FROM jobs.outbox WHERE delivered_at IS NULL", logger: logger).decode(Int.self) {
                    waiting = count
                }
                #expect(waiting == 0)
            }
        }
    }
}
