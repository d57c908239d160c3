import HTTPTypes
import Hummingbird

/// Takes the request id Kong sent (`X-Request-ID`) or else Hummingbird's own for the request,
/// puts it in the request's logger metadata (`request.id`) and echoes it on the response,
/// errors included.
public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    public static var header: HTTPField.Name { HTTPField.Name("X-Request-ID")! }

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = request.headers[Self.header].flatMap { Self.isAcceptable($0) ? $0 : nil } ?? context.id
        var context = context
        context.logger[metadataKey: "request.id"] = .string(requestID)
        do {
            var response = try await next(request, context)
            response.headers[Self.header] = requestID
            return response
        } catch let error as HTTPResponseError {
            var response = try error.response(from: request, context: context)
            response.headers[Self.header] = requestID
            return response
        }
    }

    /// Client-chosen ids end up in logs: keep them short and printable.
    private static func isAcceptable(_ id: String) -> Bool {
        id.utf8.count <= 200 && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
