import Logging
import PostgresNIO

/// Work that one replica of a service must do alone (the jobs service's dispatcher),
/// claimed in PostgreSQL: the replica whose connection holds the session advisory lock
/// `key` leads; the others try again every `retry`. When the leader's process dies, or its
/// connection to the database does, PostgreSQL ends that session and frees the lock, and
/// another replica takes over within `retry`. The leader stops leading as soon as its
/// connection closes (the server ended the session, or the network reset it); a network
/// that drops packets silently is noticed later, so the work must stay correct if two
/// leaders overlap (its claims are row locks and state changes): the lease keeps it from
/// being done twice in the usual case.
public struct LeaderLease: Sendable {
    let client: PostgresClient
    let key: Int64
    let retry: Duration
    let logger: Logger

    public init(client: PostgresClient, key: Int64, retry: Duration = .seconds(1), logger: Logger) {
        self.client = client
        self.key = key
        self.retry = retry
        self.logger = logger
    }

    /// Runs `lead` each time this replica becomes the leader, cancelling it when the lease
    /// is lost; returns when cancelled.
    public func run(lead: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            do {
                try await self.client.withConnection { connection in
                    guard try await self.tryLock(on: connection) else { return }
                    self.logger.info("leading", metadata: ["lease.key": "\(self.key)"])
                    defer { self.logger.info("no longer leading", metadata: ["lease.key": "\(self.key)"]) }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { await lead() }
                        group.addTask {
                            // Not a query: PostgresNIO's queries on a connection that closed
                            // meanwhile never answer.
                            while !connection.isClosed { try await Task.sleep(for: .milliseconds(200)) }
                            throw SessionEnded()
                        }
                        // Either ends the leadership: `lead` returned (cancelled), or the
                        // connection that holds the lock failed.
                        _ = try await group.next()
                        group.cancelAll()
                    }
                    // The connection goes back to the pool: it must not keep the lock.
                    if !connection.isClosed {
                        try await connection.query("SELECT pg_advisory_unlock(\(self.key))", logger: self.logger).drain()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                self.logger.warning("leader lease lost or not reachable", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: self.retry)
        }
    }

    struct SessionEnded: Error {}

    private func tryLock(on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query("SELECT pg_try_advisory_lock(\(self.key))", logger: self.logger)
        for try await locked in rows.decode(Bool.self) { return locked }
        return false
    }
}
