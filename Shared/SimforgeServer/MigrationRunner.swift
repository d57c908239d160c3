import Logging
import PostgresNIO

/// One schema change of a service. Statements run in order, in one transaction.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// Applies a service's migrations to its own schema, recording them in that schema's
/// `schema_migrations` table. Idempotent; safe when several replicas start at once
/// (a transaction-scoped advisory lock per schema serializes them).
public struct MigrationRunner: Sendable {
    public let schema: String
    public let migrations: [Migration]

    public init(schema: String, migrations: [Migration]) {
        precondition(schema.utf8.allSatisfy { (0x61...0x7A).contains($0) || $0 == 0x5F }, "schema names are lowercase letters and _")
        precondition(Set(migrations.map(\.version)).count == migrations.count, "migration versions must be unique")
        self.schema = schema
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Applies every migration not yet recorded; returns the versions it applied.
    @discardableResult
    public func run(on client: PostgresClient, logger: Logger) async throws -> [Int] {
        let schema = self.schema
        try await client.withTransaction(logger: logger) { connection in
            try await Self.lock(schema: schema, connection: connection, logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
            try await connection.query(
                PostgresQuery(unsafeSQL: """
                    CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """),
                logger: logger
            )
        }
        var applied: [Int] = []
        for migration in self.migrations {
            let didApply = try await client.withTransaction(logger: logger) { connection in
                try await Self.lock(schema: schema, connection: connection, logger: logger)
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT 1 FROM \(schema).schema_migrations WHERE version = $1",
                                  binds: Self.binds(migration.version)),
                    logger: logger
                )
                for try await _ in rows { return false }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    PostgresQuery(unsafeSQL: "INSERT INTO \(schema).schema_migrations (version, name) VALUES ($1, $2)",
                                  binds: Self.binds(migration.version, migration.name)),
                    logger: logger
                )
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["db.schema": "\(schema)", "db.migration": "\(migration.version) \(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    private static func lock(schema: String, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(schema)))", logger: logger).drain()
    }

    private static func binds(_ version: Int, _ name: String? = nil) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(version)
        if let name { binds.append(name) }
        return binds
    }
}
