import Logging
import PostgresNIO
import SimforgeServer
import SimforgeTestSupport
import Synchronization
import Testing

/// Two replicas' leases on one key against PostgreSQL: one leads at a time, and another
/// takes over when the leader resigns or its database session dies.
@Suite struct LeaderLeaseTests {
    /// Who leads, as the leases' `lead` closures see it.
    final class Leaders: Sendable {
        let state = Mutex<(leading: Set<String>, history: [String], overlapped: Bool)>(([], [], false))

        func lead(_ name: String) -> @Sendable () async -> Void {
            { [self] in
                self.state.withLock { state in
                    if !state.leading.isEmpty { state.overlapped = true }
                    state.leading.insert(name)
                    state.history.append(name)
                }
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
                self.state.withLock { _ = $0.leading.remove(name) }
            }
        }

        func waitFor(history expected: [String], seconds: Int = 30) async throws -> [String] {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while self.state.withLock({ $0.history }) != expected, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            return self.state.withLock { $0.history }
        }
    }


    @Test func whenTheLeaderResignsAnotherTakesOverWithoutOverlap() async throws {
        let key: Int64 = 4241
        try await TestPostgres.withFreshDatabase { settings in
            try await TestPostgres.withClient(settings) { first in
                try await TestPostgres.withClient(settings) { second in
                    let leaders = Leaders()
                    let a = Task { await LeaderLease(client: first, key: key, retry: .milliseconds(100), logger: TestPostgres.logger).run(lead: leaders.lead("a")) }
                    #expect(try await leaders.waitFor(history: ["a"]) == ["a"])
                    let b = Task { await LeaderLease(client: second, key: key, retry: .milliseconds(100), logger: TestPostgres.logger).run(lead: leaders.lead("b")) }
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(leaders.state.withLock { $0.history } == ["a"], "one leader at a time")
                    a.cancel()
                    await a.value
                    #expect(try await leaders.waitFor(history: ["a", "b"]) == ["a", "b"])
                    #expect(!leaders.state.withLock { $0.overlapped })
                    b.cancel()
                    await b.value
                }
            }
        }
    }

    /// The leader's session is terminated (its process or network died): it stops leading
    /// at once, and the other replica leads.
    @Test func whenTheLeadersSessionDiesAnotherTakesOver() async throws {
        let key: Int64 = 4242
        try await TestPostgres.withFreshDatabase { settings in
            try await TestPostgres.withClient(settings) { first in
                try await TestPostgres.withClient(settings) { second in
                    let leaders = Leaders()
                    let a = Task { await LeaderLease(client: first, key: key, retry: .milliseconds(100), logger: TestPostgres.logger).run(lead: leaders.lead("a")) }
                    #expect(try await leaders.waitFor(history: ["a"]) == ["a"])
                    let b = Task { await LeaderLease(client: second, key: key, retry: .milliseconds(100), logger: TestPostgres.logger).run(lead: leaders.lead("b")) }
                    try await second.query(
                        """
                        SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = \(key) AND granted
                            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        """,
                        logger: TestPostgres.logger
                    ).drain()
                    #expect(try await leaders.waitFor(history: ["a", "b"]) == ["a", "b"])
                    let deadline = ContinuousClock.now + .seconds(3)
                    while leaders.state.withLock({ $0.leading.contains("a") }), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(leaders.state.withLock { $0.leading } == ["b"], "the old leader stopped")
                    a.cancel()
                    b.cancel()
                    await a.value
                    await b.value
                }
            }
        }
    }
}
