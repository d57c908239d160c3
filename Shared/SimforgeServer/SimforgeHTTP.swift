import Hummingbird
import HummingbirdCore


/// The HTTP plumbing every Simforge service shares.
public enum SimforgeHTTP {
    /// A router with the standard middleware, outermost first: request id, error
    /// rendering, metrics. Add routes after this.
    public static func makeRouter() -> Router<SimforgeRequestContext> {
        let router = Router(context: SimforgeRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        return router
    }

    /// HTTP/1.1 that answers `Expect: 100-continue` at once.
    public static var server: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()]))
    }

    /// The public route group `/{userId}/api/v2`, with the consumer check.
    public static func publicRoutes(on router: Router<SimforgeRequestContext>) -> RouterGroup<SimforgeRequestContext> {
        router.group("/{userId}/api/v2").add(middleware: ConsumerAuthMiddleware())
    }
}
