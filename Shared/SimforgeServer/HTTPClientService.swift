import AsyncHTTPClient
import ServiceLifecycle

/// Runs an `HTTPClient` for the life of a service group and shuts it down on graceful
/// shutdown, so in-flight requests finish and no connection leaks.
public struct HTTPClientService: Service {
    public let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await self.client.shutdown()
    }
}
