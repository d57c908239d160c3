import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Ends the connections of clients too slow to be served (slowloris, a stalled upload).
/// Sits after HTTP decoding, before request handling.
///
/// - A request's head must arrive within `headerTimeout` of the connection's start, or of
///   the end of the previous answer; otherwise the connection is closed.
/// - While the request handler waits for body bytes that do not come for
///   `bodyIdleTimeout`, the body fails with a 408 ``APIError`` (so uploads clean up and
///   answer 408 in the API's shape) and the connection is closed after that answer. Time
///   the server itself spends not asking for bytes (backpressure) does not count.
public final class RequestTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    /// What a request whose body stopped arriving fails with.
    public static let bodyTimedOut = APIError(
        .requestTimeout, detail: "The request body stopped arriving.", headers: [.connection: "close"])

    private let headerTimeout: TimeAmount
    private let bodyIdleTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    /// A head has arrived and its body has not ended.
    private var readingBody = false
    /// Requests whose answer has not been written to its end.
    private var unanswered = 0
    /// The request handler asked for bytes that have not come yet, since `waitingSince`.
    private var readPending = false
    private var waitingSince = NIODeadline.now()
    private var closeAfterAnswer = false

    public init(headerTimeout: Duration, bodyIdleTimeout: Duration) {
        self.headerTimeout = TimeAmount(headerTimeout)
        self.bodyIdleTimeout = TimeAmount(bodyIdleTimeout)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.awaitHead(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelTimer()
    }

    public func channelActive(context: ChannelHandlerContext) {
        self.awaitHead(context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        self.cancelTimer()
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.readPending = false
        self.waitingSince = .now()
        switch self.unwrapInboundIn(data) {
        case .head:
            self.cancelTimer()
            self.readingBody = true
            self.unanswered += 1
            self.schedule(context, in: self.bodyIdleTimeout)
        case .body:
            break
        case .end:
            self.readingBody = false
            self.cancelTimer()
        }
        context.fireChannelRead(data)
    }

    public func read(context: ChannelHandlerContext) {
        if !self.readPending {
            self.readPending = true
            self.waitingSince = .now()
        }
        context.read()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = self.unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        self.unanswered -= 1
        if self.closeAfterAnswer {
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
            return
        }
        context.write(data, promise: promise)
        if !self.readingBody && self.unanswered == 0 { self.awaitHead(context) }
    }

    private func awaitHead(_ context: ChannelHandlerContext) {
        self.cancelTimer()
        self.timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: self.headerTimeout) {
            self.timer = nil
            context.close(promise: nil)
        }
    }

    private func schedule(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        self.timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: delay) {
            self.timer = nil
            self.checkBody(context)
        }
    }

    private func checkBody(_ context: ChannelHandlerContext) {
        guard self.readingBody else { return }
        let idle = NIODeadline.now() - self.waitingSince
        guard self.readPending, idle >= self.bodyIdleTimeout else {
            self.schedule(context, in: self.readPending ? self.bodyIdleTimeout - idle : self.bodyIdleTimeout)
            return
        }
        self.readingBody = false
        if self.unanswered == 0 {
            context.close(promise: nil)
        } else {
            self.closeAfterAnswer = true
            context.fireErrorCaught(Self.bodyTimedOut)
        }
    }

    private func cancelTimer() {
        self.timer?.cancel()
        self.timer = nil
    }
}

@available(*, unavailable)
extension RequestTimeoutHandler: Sendable {}
