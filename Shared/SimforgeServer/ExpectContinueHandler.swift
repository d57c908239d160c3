import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` at once with `100 Continue`, so clients such as curl
/// start sending an upload immediately instead of waiting a second. Hummingbird 2.28
/// does not do this itself. Sits after HTTP decoding, before request handling.
public final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = self.unwrapInboundIn(data),
              let expectation = head.headerFields[.expect],
              expectation.lowercased() == "100-continue"
        else {
            context.fireChannelRead(data)
            return
        }
        head.headerFields[.expect] = nil
        context.writeAndFlush(self.wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        context.fireChannelRead(self.wrapInboundOut(.head(head)))
    }
}
