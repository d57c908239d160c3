import Foundation
import Logging
import PostgresNIO
import SimforgeServer

/// The PostgreSQL server `deploy/test.sh` started. Tests never skip without it: they fail
/// with a message saying how to run them.
public enum TestPostgres {
    /// Quiet unless `LOG_LEVEL` asks for more: some tests provoke connection failures on purpose.
    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    /// The server's settings from `POSTGRES_*`, for its maintenance database. Pools keep
    /// two connections: suites run in parallel, each with applications of its own, and
    /// every pool opens its connections at start.
    public static func serverSettings() throws -> PostgresSettings {
        do {
            var settings = try PostgresSettings(environment: EnvironmentReader())
            settings.connections = 2
            return settings
        } catch {
            throw ConfigurationError("\(error). Run the tests with deploy/test.sh, which starts PostgreSQL and sets POSTGRES_*.")
        }
    }

    /// Runs `body` with settings for a new, empty database of its own (suites run in
    /// parallel and never see each other's rows); drops the database afterwards.
    public static func withFreshDatabase<Result: Sendable>(
        _ body: (PostgresSettings) async throws -> Result
    ) async throws -> Result {
        var settings = try serverSettings()
        let name = "test_" + ShortID.make(length: 12).lowercased()
        try await self.admin(settings) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger).drain()
        }
        settings.database = name
        do {
            let result = try await body(settings)
            try await self.drop(name, server: try serverSettings())
            return result
        } catch {
            try? await self.drop(name, server: try serverSettings())
            throw error
        }
    }

    /// Runs `body` with a running client for `settings`.
    public static func withClient<Result: Sendable>(
        _ settings: PostgresSettings, _ body: @escaping @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let client = settings.makeClient(logger: logger)
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    private static func admin(_ settings: PostgresSettings, _ body: @escaping @Sendable (PostgresClient) async throws -> Void) async throws {
        try await self.withClient(settings, body)
    }

    private static func drop(_ name: String, server: PostgresSettings) async throws {
        try await self.admin(server) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger).drain()
        }
    }
}
