import Logging
import PostgresNIO
import ServiceLifecycle

/// Listens on PostgreSQL notification channels (LISTEN/NOTIFY) for the whole life of the
/// service, all on one connection (held for as long as it listens: count it in the pool,
/// ``PostgresSettings/makeClient(logger:longHeld:)``), and hands each payload to its
/// channel's `received`; reconnects after a failure. Notifications sent while it was not
/// listening are lost: a channel's `listening` runs each time it (re)starts listening,
/// before its first notification, for whatever must not rely on them (caches drop everything).
public struct NotificationListener: Service {
    /// A channel and what its notifications do.
    public struct Channel: Sendable {
        let name: String
        let listening: @Sendable () async -> Void
        let received: @Sendable (_ payload: String) async -> Void

        public init(
            _ name: String, listening: @escaping @Sendable () async -> Void,
            received: @escaping @Sendable (_ payload: String) async -> Void
        ) {
            self.name = name
            self.listening = listening
            self.received = received
        }
    }

    let client: PostgresClient
    let channels: [Channel]
    let logger: Logger

    public init(client: PostgresClient, channels: [Channel], logger: Logger) {
        self.client = client
        self.channels = channels
        self.logger = logger
    }

    public init(
        client: PostgresClient, channel: String, logger: Logger, listening: @escaping @Sendable () async -> Void,
        received: @escaping @Sendable (_ payload: String) async -> Void
    ) {
        self.init(client: client, channels: [Channel(channel, listening: listening, received: received)], logger: logger)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.client.withConnection { connection in
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            for channel in self.channels {
                                group.addTask {
                                    try await connection.listen(on: channel.name) { notifications in
                                        await channel.listening()
                                        for try await notification in notifications {
                                            await channel.received(notification.payload)
                                        }
                                    }
                                }
                            }
                            // One channel's end (the connection failed, or shutdown) ends them all.
                            try await group.next()
                            group.cancelAll()
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    self.logger.warning(
                        "listener of \(self.channels.map(\.name).joined(separator: ", ")) lost its connection; reconnecting",
                        metadata: ["error": "\(String(reflecting: error))"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
