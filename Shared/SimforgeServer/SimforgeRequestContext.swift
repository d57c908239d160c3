import Foundation
import Hummingbird
import NIOCore

/// The request context of every Simforge service.
public struct SimforgeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated user (`X-Consumer-Custom-ID`), set by ``ConsumerAuthMiddleware``
    /// on public routes.
    public var authenticatedUserId: String?
    /// The job a job-scoped call acts for, set by ``JobTokenMiddleware``.
    public var jobScope: JobToken?
    /// The peer's address, for the gateway's `X-Forwarded-For`.
    public let remoteAddress: SocketAddress?
    /// The origin the request's links are built on, set by ``PublicOriginMiddleware``.
    public var publicOrigin: String = PublicOrigins.defaultValue

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    public var requestDecoder: JSONDecoder { JSONDecoder.simforge() }
    public var responseEncoder: JSONEncoder { JSONEncoder.simforge() }

    /// The authenticated user; throws 401 on a route that forgot ``ConsumerAuthMiddleware``.
    public func requireUserId() throws -> String {
        guard let userId = self.authenticatedUserId else { throw APIError.notAuthenticated }
        return userId
    }
}

extension SimforgeRequestContext {
    /// The job scope; throws 401 on a route that forgot ``JobTokenMiddleware``.
    public func requireJobScope() throws -> JobToken {
        guard let scope = self.jobScope else { throw APIError(.unauthorized, detail: "A job token is required.") }
        return scope
    }
}
