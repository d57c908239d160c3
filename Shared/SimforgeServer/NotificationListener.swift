import Logging
import PostgresNIO
import ServiceLifecycle

/// Listens on a PostgreSQL notification channel (LISTEN/NOTIFY) for the whole life of the
/// service, on a connection of its own, and hands each payload to `received`; reconnects
/// after a failure. Notifications sent while it was not listening are lost: `listening`
/// runs each time it (re)starts listening, before the first notification, for whatever
/// must not rely on them (caches drop everything).
public struct NotificationListener: Service {
    let client: PostgresClient
    let channel: String
    let logger: Logger
    let listening: @Sendable () async -> Void
    let received: @Sendable (_ payload: String) async -> Void

    public init(
        client: PostgresClient, channel: String, logger: Logger, listening: @escaping @Sendable () async -> Void,
        received: @escaping @Sendable (_ payload: String) async -> Void
    ) {
        self.client = client
        self.channel = channel
        self.logger = logger
        self.listening = listening
        self.received = received
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.client.withConnection { connection in
                        try await connection.listen(on: self.channel) { notifications in
                            await self.listening()
                            for try await notification in notifications {
                                await self.received(notification.payload)
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    self.logger.warning(
                        "listener of \(self.channel) lost its connection; reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
