import HTTPTypes
import Hummingbird

/// Who a public request is for. Only the gateway may say it: it authenticates the token
/// and sends the consumer in `X-Consumer-Custom-ID` together with the gateway's secret in
/// `X-Gateway-Secret`. A request without the secret is 401 whatever else it claims (a job's
/// command, or anyone else who reaches a service's port directly, cannot speak for a user);
/// with it, the consumer must be present (else 401) and be the path's `{userId}` (else
/// 403). Install on the `/{userId}/api/v2` route group.
public struct ConsumerAuthMiddleware: RouterMiddleware {
    public typealias Context = SimforgeRequestContext

    public static let consumerHeader = HTTPField.Name("X-Consumer-Custom-ID")!
    public static let gatewaySecretHeader = HTTPField.Name("X-Gateway-Secret")!

    private let gatewaySecret: String

    public init(gatewaySecret: String) {
        self.gatewaySecret = gatewaySecret
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let presented = request.headers[Self.gatewaySecretHeader], constantTimeEquals(presented, self.gatewaySecret) else {
            throw APIError(.unauthorized, detail: "Requests must come through the API gateway.")
        }
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
