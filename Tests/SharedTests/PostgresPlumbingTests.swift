import Foundation
import Logging
import PostgresNIO
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing

/// The migration runner and the start-up connectivity check against the real server.
@Suite struct PostgresPlumbingTests {
    static let logger = TestPostgres.logger

    static func tables(in schema: String, client: PostgresClient) async throws -> [String] {
        let rows = try await client.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = \(schema) ORDER BY table_name", logger: logger)
        var names: [String] = []
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    @Test func migrationsApplyInOrderOnceIntoTheirOwnSchema() async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            try await TestPostgres.withClient(settings) { client async throws in
                // Given out of order: the runner sorts by version.
                let runner = MigrationRunner(schema: "alpha", migrations: [
                    Migration(version: 2, name: "add column", statements: ["ALTER TABLE alpha.things ADD COLUMN label text"]),
                    Migration(version: 1, name: "create", statements: ["CREATE TABLE alpha.things (id integer PRIMARY KEY)"]),
                ])
                #expect(try await runner.run(on: client, logger: Self.logger) == [1, 2])
                #expect(try await runner.run(on: client, logger: Self.logger) == [])
                #expect(try await Self.tables(in: "alpha", client: client) == ["schema_migrations", "things"])

                let other = MigrationRunner(schema: "beta", migrations: [
                    Migration(version: 1, name: "create", statements: ["CREATE TABLE beta.others (id integer)"]),
                ])
                #expect(try await other.run(on: client, logger: Self.logger) == [1])
                #expect(try await Self.tables(in: "beta", client: client) == ["others", "schema_migrations"])
            }
        }
    }

    /// A date shown as an ISO string and sent back (as `after`) binds to exactly the
    /// microsecond PostgreSQL stored, for any date: no off-by-one-microsecond comparisons.
    @Test func timestampsBindToTheMicrosecondTheyShow() async throws {
        try await TestPostgres.withClient(try TestPostgres.serverSettings()) { client async throws in
            var mismatches = 0
            for _ in 0..<500 {
                let date = Date(timeIntervalSince1970: Double.random(in: 1.7e9...1.9e9)).wholeMicroseconds
                let shown = ISODate.format(date)
                let parsed = try #require(ISODate.parse(shown))
                let rows = try await client.query(
                    "SELECT \(PostgresTimestamp(parsed)) = \(shown)::timestamptz, \(PostgresTimestamp(date)) = \(shown)::timestamptz",
                    logger: Self.logger)
                for try await (fromParsed, fromDate) in rows.decode((Bool, Bool).self) where !fromParsed || !fromDate {
                    mismatches += 1
                }
            }
            #expect(mismatches == 0)
        }
    }

    @Test func failingMigrationLeavesNothingBehind() async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            try await TestPostgres.withClient(settings) { client async throws in
                let broken = MigrationRunner(schema: "gamma", migrations: [
                    Migration(version: 1, name: "good", statements: ["CREATE TABLE gamma.a (id integer)"]),
                    Migration(version: 2, name: "half bad", statements: ["CREATE TABLE gamma.b (id integer)", "CREATE TABLE gamma.a (id integer)"]),
                ])
                await #expect(throws: (any Error).self) { try await broken.run(on: client, logger: Self.logger) }
                #expect(try await Self.tables(in: "gamma", client: client) == ["a", "schema_migrations"])
                let rows = try await client.query("SELECT version FROM gamma.schema_migrations", logger: Self.logger)
                var versions: [Int] = []
                for try await version in rows.decode(Int.self) { versions.append(version) }
                #expect(versions == [1])
            }
        }
    }

    @Test func concurrentRunnersApplyEachMigrationOnce() async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            try await TestPostgres.withClient(settings) { client async throws in
                let runner = MigrationRunner(schema: "delta", migrations: [
                    Migration(version: 1, name: "create", statements: ["CREATE TABLE delta.t (id integer)"]),
                ])
                let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                    for _ in 0..<4 { group.addTask { try await runner.run(on: client, logger: Self.logger) } }
                    return try await group.reduce(into: [Int]()) { $0 += $1 }
                }
                #expect(applied == [1])
            }
        }
    }

    @Test func wrongPasswordFailsWithinTheTimeoutInsteadOfHanging() async throws {
        var settings = try TestPostgres.serverSettings()
        settings.password = "definitely-not-the-password"
        let clock = ContinuousClock()
        let started = clock.now
        await #expect(throws: (any Error).self) {
            try await TestPostgres.withClient(settings) { client async throws in
                try await client.checkConnectivity(timeout: .seconds(2), logger: Self.logger)
            }
        }
        #expect(clock.now - started < .seconds(30), "a wrong password must fail, not hang")
    }
}
