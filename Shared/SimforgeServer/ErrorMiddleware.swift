import Hummingbird
import Logging

/// The one place errors become responses. ``APIError``s pass through; Hummingbird's own
/// `HTTPError`s (unknown route, oversized body, bad JSON) are rewritten into the DRF
/// `{"detail": ...}` shape; anything else is logged once with its full description and
/// answered with a generic 500 that leaks nothing.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let detail = error.body.flatMap { $0.isEmpty ? nil : $0 } ?? APIError.defaultDetail(for: error.status)
            throw APIError(error.status, detail: error.status.code >= 500 ? APIError.defaultDetail(for: error.status) : detail,
                           headers: error.headers)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            throw APIError.serverError
        }
    }
}
