import HTTPTypes
import Hummingbird

/// Guards `/internal/...` routes: the caller must send the shared service token in
/// `X-Internal-Token` (else 401). Kong never routes these paths; this check keeps them
/// closed even to a client that reaches a service directly.
public struct InternalTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    public static var header: HTTPField.Name { HTTPField.Name("X-Internal-Token")! }

    private let token: String

    public init(token: String) {
        self.token = token
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let presented = request.headers[Self.header], constantTimeEquals(presented, self.token) else {
            throw APIError(.unauthorized, detail: "Invalid internal token.")
        }
        return try await next(request, context)
    }
}

/// Compares two secrets in time that depends only on their lengths.
public func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    let left = Array(lhs.utf8)
    let right = Array(rhs.utf8)
    guard left.count == right.count else { return false }
    var difference: UInt8 = 0
    for index in left.indices {
        difference |= left[index] ^ right[index]
    }
    return difference == 0
}
