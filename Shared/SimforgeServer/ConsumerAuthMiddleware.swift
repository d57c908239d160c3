import HTTPTypes
import Hummingbird

/// Defense in depth behind Kong: a public route needs the consumer Kong authenticated
/// (`X-Consumer-Custom-ID`, else 401) and that consumer must be the path's `{userId}`
/// (else 403). Install on the `/{userId}/api/v2` route group.
public struct ConsumerAuthMiddleware: RouterMiddleware {
    public typealias Context = SimforgeRequestContext

    public static let consumerHeader = HTTPField.Name("X-Consumer-Custom-ID")!

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let consumer = request.headers[Self.consumerHeader], !consumer.isEmpty else {
            throw APIError.notAuthenticated
        }
        guard consumer == context.parameters.get("userId") else {
            throw APIError.permissionDenied
        }
        var context = context
        context.authenticatedUserId = consumer
        return try await next(request, context)
    }
}
