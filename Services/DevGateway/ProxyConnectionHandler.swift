import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import SimforgeServer

/// One client connection of the gateway, at the end of its pipeline: each request is
/// planned from its head (``RequestPlanner``), then answered by the gateway or relayed to
/// a service over a pooled keep-alive connection on the same event loop (``Exchange``).
/// Both bodies stream with backpressure, so multi-GB uploads and downloads pass in
/// constant memory: the client is not read while the service cannot take more, the service
/// is not read while the client cannot.
final class ProxyConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    let planner: RequestPlanner
    let logger: Logger
    /// How long an exchange waits for the service's next bytes.
    let readTimeout: TimeAmount
    private let pools: UpstreamConnectionPool
    private(set) var pool: UpstreamConnectionPool.LoopPool!
    private var context: ChannelHandlerContext!
    private var clientAddress = "127.0.0.1"

    /// The request being served: its body has not ended yet.
    private var requestOpen = false
    /// The answer to the request being served has been written to its end.
    private var answered = true
    /// Whether the answer started (a head went out).
    private var answerStarted = false
    private var keepAlive = true
    private var exchange: Exchange?

    init(planner: RequestPlanner, pools: UpstreamConnectionPool, readTimeout: TimeAmount, logger: Logger) {
        self.planner = planner
        self.pools = pools
        self.readTimeout = readTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.pool = self.pools.pool(on: context.eventLoop)
        self.clientAddress = context.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.requestOpen = true
            self.answered = false
            self.answerStarted = false
            self.keepAlive = !(head.headerFields[.connection]?.lowercased().contains("close") ?? false)
            switch self.planner.plan(head, clientAddress: self.clientAddress) {
            case .answer(let answer):
                self.answer(answer)
            case .proxy(let plan):
                let exchange = Exchange(connection: self, plan: plan)
                self.exchange = exchange
                exchange.start()
            }
        case .body(let buffer):
            self.exchange?.clientBody(buffer)
        case .end:
            self.requestOpen = false
            self.exchange?.clientEnded()
            self.requestDoneIfAnswered()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.exchange?.abandon()
        self.exchange = nil
        context.fireChannelInactive()
    }

    /// A malformed request, or a body that stopped arriving (``RequestTimeoutHandler``):
    /// answered in the API's shape if no answer started, and the connection is closed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.exchange?.abandon()
        self.exchange = nil
        self.keepAlive = false
        // An answer needs a request whose answer has not started: a head that could not be
        // read has none (NIO's pipeline handler refuses an answer to no request).
        guard self.requestOpen || !self.answered, !self.answerStarted else {
            context.close(promise: nil)
            return
        }
        let failure = error as? APIError ?? APIError.badRequest("Malformed request.")
        self.logger.debug("client request failed", metadata: ["error": "\(error)"])
        self.requestOpen = false
        self.answer(GatewayAnswer(failure, requestID: UUID().uuidString.lowercased()))
    }

    // MARK: What the exchange and the gateway write to the client

    /// A whole answer of the gateway's own; the rest of the request body is dropped.
    func answer(_ answer: GatewayAnswer) {
        var head = HTTPResponse(status: answer.status, headerFields: answer.headers)
        head.headerFields[.contentLength] = String(answer.body.readableBytes)
        self.writeHead(head)
        if answer.body.readableBytes > 0 { self.context.write(self.wrapOutboundOut(.body(answer.body)), promise: nil) }
        self.writeEnd()
        self.setReading(true)
    }

    func writeHead(_ head: HTTPResponse) {
        var head = head
        if !self.keepAlive { head.headerFields[.connection] = "close" }
        self.answerStarted = true
        self.context.write(self.wrapOutboundOut(.head(head)), promise: nil)
    }

    func writeBody(_ buffer: ByteBuffer) {
        self.context.write(self.wrapOutboundOut(.body(buffer)), promise: nil)
    }

    func flush() {
        self.context.flush()
    }

    var isWritable: Bool { self.context.channel.isWritable }

    func writeEnd() {
        self.answered = true
        if self.keepAlive {
            self.context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let context = self.context!
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
        self.requestDoneIfAnswered()
    }

    /// A cut answer: the client sees the answer is incomplete.
    func cutAnswer() {
        self.exchange = nil
        self.context.close(promise: nil)
    }

    /// Reads the client's bytes, or stops until the service can take more.
    func setReading(_ reading: Bool) {
        try? self.context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: reading)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.exchange?.clientWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    private func requestDoneIfAnswered() {
        guard !self.requestOpen, self.answered else { return }
        self.exchange = nil
        self.setReading(true)
    }
}
