import HTTPTypes
import Hummingbird

/// Guards `/internal/jobs/{jobId}/...`: the caller must present a ``JobToken`` for that
/// very job (`X-Job-Token`), else 401; the token's scope goes into the context.
public struct JobTokenMiddleware: RouterMiddleware {
    public typealias Context = SimforgeRequestContext

    private let secret: String

    public init(secret: String) {
        self.secret = secret
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let presented = request.headers[HTTPField.Name(JobToken.header)!],
              let scope = JobToken.verify(presented, secret: self.secret),
              scope.jobId == context.parameters.get("jobId")
        else {
            throw APIError(.unauthorized, detail: "Invalid job token.")
        }
        var context = context
        context.jobScope = scope
        return try await next(request, context)
    }
}
