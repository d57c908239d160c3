import Logging
import PostgresNIO

/// How to reach PostgreSQL: `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`,
/// `POSTGRES_PASSWORD`, `POSTGRES_DB`.
public struct PostgresSettings: Sendable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String
    public var database: String

    public init(host: String, port: Int, username: String, password: String, database: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    public init(environment: EnvironmentReader) throws {
        self.host = try environment.require("POSTGRES_HOST")
        self.port = try environment.int("POSTGRES_PORT", default: 5432, range: 1...65535)
        self.username = try environment.require("POSTGRES_USER")
        self.password = try environment.require("POSTGRES_PASSWORD")
        self.database = try environment.require("POSTGRES_DB")
    }

    /// A client for these settings. It is a `Service`: run it in the application's
    /// service group before querying.
    public func makeClient(logger: Logger) -> PostgresClient {
        let configuration = PostgresClient.Configuration(
            host: self.host,
            port: self.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: .disable
        )
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}

extension PostgresClient {
    /// Runs `SELECT 1` under `timeout`. A wrong password or an unreachable server would
    /// otherwise make the first query wait forever while the pool retries.
    public func checkConnectivity(timeout: Duration = .seconds(10), logger: Logger) async throws {
        try await withTimeout(timeout, "connecting to PostgreSQL") {
            try await self.query("SELECT 1", logger: logger).drain()
        }
    }
}

extension PostgresRowSequence {
    /// Reads and discards every row, so the statement has completed when this returns.
    public func drain() async throws {
        for try await _ in self {}
    }
}

extension PostgresClient {
    /// `SELECT count(*) FROM table WHERE filter`, the total behind a page of a list.
    public func count(from table: String, where filter: String, binds: PostgresBindings, logger: Logger) async throws -> Int {
        var count = 0
        let rows = try await self.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table) WHERE \(filter)", binds: binds), logger: logger)
        for try await total in rows.decode(Int.self) {
            count = total
        }
        return count
    }
}
