import Logging
import PostgresNIO

/// How to reach PostgreSQL: `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`,
/// `POSTGRES_PASSWORD`, `POSTGRES_DB`, and how many connections to keep open
/// (`POSTGRES_CONNECTIONS`).
public struct PostgresSettings: Sendable {
    /// The pool size without `POSTGRES_CONNECTIONS`.
    public static let defaultConnections = 8

    public var host: String
    public var port: Int
    public var username: String
    public var password: String
    public var database: String
    /// The pool's fixed size: opened at start, kept open, never more.
    public var connections: Int

    public init(host: String, port: Int, username: String, password: String, database: String, connections: Int = defaultConnections) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connections = connections
    }

    public init(environment: EnvironmentReader) throws {
        self.host = try environment.require("POSTGRES_HOST")
        self.port = try environment.int("POSTGRES_PORT", default: 5432, range: 1...65535)
        self.username = try environment.require("POSTGRES_USER")
        self.password = try environment.require("POSTGRES_PASSWORD")
        self.database = try environment.require("POSTGRES_DB")
        self.connections = try environment.int("POSTGRES_CONNECTIONS", default: Self.defaultConnections, range: 2...1000)
    }

    /// A client for these settings. It is a `Service`: run it in the application's
    /// service group before querying.
    ///
    /// The pool has a fixed size and no keep-alive queries. PostgresNIO's pool arms a
    /// keep-alive timer, and an idle-timeout timer for connections above the minimum,
    /// each time a connection goes back idle: a task group of two tasks that the next
    /// lease cancels. Under load that is every request, and it cost about a third of the
    /// CPU of a read route (BENCHMARKS.md, "Jobs and status: read routes"). A connection
    /// the server closes is still noticed and replaced at once; one that a network drops
    /// silently is found by the next query on it.
    ///
    /// - Parameter longHeld: connections the service holds for as long as it runs (a
    ///   ``NotificationListener``, a ``LeaderLease``): the pool has `connections` more than
    ///   those, so requests are never left without one.
    public func makeClient(logger: Logger, longHeld: Int = 0) -> PostgresClient {
        var configuration = PostgresClient.Configuration(
            host: self.host,
            port: self.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: .disable
        )
        configuration.options.minimumConnections = self.connections + longHeld
        configuration.options.maximumConnections = self.connections + longHeld
        configuration.options.keepAliveBehavior = nil
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
