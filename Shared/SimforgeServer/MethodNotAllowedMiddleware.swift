import HTTPTypes
import Hummingbird

/// 405 with `Allow` for a path the router serves with other methods (DRF's
/// `Method "PUT" not allowed.`). Added after every route, it wraps only the router's
/// not-found answer: a route's own 404 never reaches it.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = SimforgeRequestContext

    /// Each route's path and method, as the router lists them.
    let routes: [(path: RouterPath, method: HTTPRequest.Method)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let segments = request.uri.path.split(separator: "/")
            let allowed = Set(self.routes.filter { Self.matches($0.path, segments) }.map(\.method.rawValue)).sorted()
            guard !allowed.isEmpty else { throw error }
            throw APIError(
                .methodNotAllowed, detail: "Method \"\(request.method.rawValue)\" not allowed.",
                headers: [.allow: allowed.joined(separator: ", ")])
        }
    }

    /// Whether `path` (a route's pattern) matches the request path's segments.
    static func matches(_ path: RouterPath, _ segments: [Substring]) -> Bool {
        for (index, element) in path.components.enumerated() {
            if element.description == "**" { return index < segments.count }
            guard index < segments.count, element ~= segments[index] else { return false }
        }
        return path.components.count == segments.count
    }
}
