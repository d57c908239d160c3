import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOPosix

/// Keep-alive connections to the services, kept per event loop: a client connection's
/// exchange and its upstream connection run on the same loop, so passing bytes between
/// them takes no lock and no thread hop.
final class UpstreamConnectionPool: Sendable {
    struct Settings: Sendable {
        var connectTimeout: TimeAmount
        /// How long an idle connection is kept: services close keep-alive connections idle
        /// past their header timeout, so this stays well below it and no request is sent on
        /// a connection a service is closing.
        var idleTimeout: TimeAmount
        /// Idle connections kept per target on each event loop.
        var maxIdlePerTarget = 64
    }

    let settings: Settings
    /// Reads of up to 256 KiB on the gateway's connections (NIO's default stops at 64 KiB):
    /// a large body passes in a quarter of the system calls and parts.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 256 * 1024)
    private let loops = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<LoopPool>]>([:])

    init(settings: Settings) {
        self.settings = settings
    }

    /// The pool of `eventLoop`'s connections; call on that loop.
    func pool(on eventLoop: any EventLoop) -> LoopPool {
        let bound = self.loops.withLockedValue { loops in
            if let existing = loops[ObjectIdentifier(eventLoop)] { return existing }
            let made = NIOLoopBound(LoopPool(eventLoop: eventLoop, settings: self.settings), eventLoop: eventLoop)
            loops[ObjectIdentifier(eventLoop)] = made
            return made
        }
        return bound.value
    }

    /// One event loop's idle connections, by target. Used on that loop only.
    final class LoopPool {
        let eventLoop: any EventLoop
        let settings: Settings
    /// Reads of up to 256 KiB on the gateway's connections (NIO's default stops at 64 KiB):
    /// a large body passes in a quarter of the system calls and parts.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 256 * 1024)
        private var idle: [ObjectIdentifier: [UpstreamConnection]] = [:]

        init(eventLoop: any EventLoop, settings: Settings) {
            self.eventLoop = eventLoop
            self.settings = settings
        }

        /// An idle connection to `target`, the most recently used first.
        func take(_ target: UpstreamTarget) -> UpstreamConnection? {
            while let connection = self.idle[ObjectIdentifier(target)]?.popLast() {
                connection.leavePool()
                if connection.channel.isActive { return connection }
            }
            return nil
        }

        /// A new connection to `target`.
        func connect(_ target: UpstreamTarget) -> EventLoopFuture<UpstreamConnection> {
            ClientBootstrap(group: self.eventLoop)
                .connectTimeout(self.settings.connectTimeout)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelOption(ChannelOptions.recvAllocator, value: UpstreamConnectionPool.receiveBuffers)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPClientCodec())
                        try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                    }
                }
                .connect(host: target.host, port: target.port)
                .flatMapThrowing { channel in
                    let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
                    return UpstreamConnection(channel: channel, target: target, handler: handler)
                }
        }

        /// Keeps `connection` for the next request to its target, or closes it when enough wait.
        func giveBack(_ connection: UpstreamConnection) {
            let key = ObjectIdentifier(connection.target)
            guard connection.channel.isActive, (self.idle[key]?.count ?? 0) < self.settings.maxIdlePerTarget else {
                connection.close()
                return
            }
            connection.setReading(true)  // so that a close by the service is noticed while it waits
            self.idle[key, default: []].append(connection)
            connection.enterPool(idleTimeout: self.settings.idleTimeout) { [weak self] in
                self?.remove(connection)
            }
        }

        private func remove(_ connection: UpstreamConnection) {
            let key = ObjectIdentifier(connection.target)
            self.idle[key]?.removeAll { $0 === connection }
        }
    }
}

/// What an upstream connection reports to the exchange using it.
protocol UpstreamDelegate: AnyObject {
    func upstreamRead(_ part: HTTPResponsePart)
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection failed or closed; `error` is `nil` for a plain close.
    func upstreamClosed(error: (any Error)?)
}

/// One keep-alive connection to a service, used by one exchange at a time.
final class UpstreamConnection {
    let channel: any Channel
    let target: UpstreamTarget
    private let handler: UpstreamHandler
    private var idleTimer: Scheduled<Void>?

    init(channel: any Channel, target: UpstreamTarget, handler: UpstreamHandler) {
        self.channel = channel
        self.target = target
        self.handler = handler
    }

    var delegate: (any UpstreamDelegate)? {
        get { self.handler.delegate }
        set { self.handler.delegate = newValue }
    }

    var isWritable: Bool { self.channel.isWritable }

    func flush() {
        self.channel.flush()
    }

    func write(_ part: HTTPRequestPart, flush: Bool) {
        if flush {
            self.channel.writeAndFlush(part, promise: nil)
        } else {
            self.channel.write(part, promise: nil)
        }
    }

    /// Whether the answer's bytes are read as they come (off while the client cannot take them).
    func setReading(_ reading: Bool) {
        try? self.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: reading)
    }

    func close() {
        self.handler.delegate = nil
        self.idleTimer?.cancel()
        self.idleTimer = nil
        self.channel.close(promise: nil)
    }

    fileprivate func enterPool(idleTimeout: TimeAmount, onGone: @escaping () -> Void) {
        self.handler.delegate = nil
        self.handler.onIdleClose = onGone
        self.idleTimer = self.channel.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
            onGone()
            self?.close()
        }
    }

    fileprivate func leavePool() {
        self.handler.onIdleClose = nil
        self.idleTimer?.cancel()
        self.idleTimer = nil
    }
}

/// The end of an upstream connection's pipeline: hands what arrives to the exchange.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPRequestPart

    weak var delegate: (any UpstreamDelegate)?
    /// While pooled: drops the connection from the pool when it closes.
    var onIdleClose: (() -> Void)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.delegate?.upstreamRead(self.unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.onIdleClose?()
        self.onIdleClose = nil
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamClosed(error: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamClosed(error: error)
        context.close(promise: nil)
    }
}
