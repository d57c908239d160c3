import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import ServiceLifecycle
import SimforgeServer

/// The gateway's connections: HTTP/1.1 straight into ``ProxyConnectionHandler``, with the
/// services' handling of `Expect: 100-continue` and of slow clients. Every request is
/// answered on its connection's event loop, without a task per request.
struct ProxyChildChannel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
    }

    let planner: RequestPlanner
    let pools: UpstreamConnectionPool
    let http: HTTPServerConfiguration
    let readTimeout: TimeAmount
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: UpstreamConnectionPool.receiveBuffers)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(ExpectContinueHandler())
            try pipeline.addHandler(RequestTimeoutHandler(headerTimeout: self.http.headerTimeout, bodyIdleTimeout: self.http.bodyIdleTimeout))
            try pipeline.addHandler(ProxyConnectionHandler(planner: self.planner, pools: self.pools, readTimeout: self.readTimeout, logger: self.logger))
            return Value(channel: channel)
        }
    }

    /// Waits for the connection to close; on shutdown, it closes once its request is answered.
    func handle(value: Value, logger: Logger) async {
        await withGracefulShutdownHandler {
            try? await value.channel.closeFuture.get()
        } onGracefulShutdown: {
            value.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    var serverBuilder: HTTPServerBuilder {
        HTTPServerBuilder { _ in self }
    }
}

/// Hummingbird's `Application` asks for a responder; the gateway's connections
/// (``ProxyChildChannel``) answer every request themselves, so it is never called.
struct ProxyOnlyResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    func respond(to request: Request, context: Context) async throws -> Response {
        Response(status: .internalServerError)
    }
}
