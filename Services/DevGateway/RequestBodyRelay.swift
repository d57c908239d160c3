import AsyncAlgorithms
import Hummingbird
import NIOCore
import Synchronization

/// A client's request body on its way to the upstream. One task reads the body (the
/// connection's only reader while the request is served) and hands each buffer on, with
/// backpressure, while the upstream takes it. Once the upstream has answered, or failed,
/// the rest of the body is read and dropped: the upstream's answer reaches the client, the
/// connection can serve the next request, and the HTTP client never reads the body at the
/// same time as the server (an early answer trapped in NIO's async sequence when it did).
final class RequestBodyRelay: Sendable {
    /// What the upstream request streams from: the body's buffers until ``stopForwarding()``.
    var forwarded: Forwarded { Forwarded(relay: self) }
    private let channel = AsyncThrowingChannel<ByteBuffer, any Error>()
    private let forwarding = Mutex(true)
    private let forwardedAny = Mutex(false)
    private let failure = Mutex<(any Error)?>(nil)
    private let reader = Mutex<Task<Void, Never>?>(nil)

    private init() {}

    /// Starts reading `body`.
    static func start(reading body: RequestBody) -> RequestBodyRelay {
        let relay = RequestBodyRelay()
        let task = Task { await relay.read(body) }
        relay.reader.withLock { $0 = task }
        return relay
    }

    /// Why reading the client's body failed (a malformed chunk, a stalled body), if it did.
    var clientFailure: (any Error)? {
        self.failure.withLock { $0 }
    }

    /// Whether an upstream request has taken any of the body: until then, the request may
    /// still go to another target.
    var hasForwarded: Bool {
        self.forwardedAny.withLock { $0 }
    }

    /// The upstream takes no more: the rest of the body is dropped.
    func stopForwarding() {
        self.forwarding.withLock { $0 = false }
        self.channel.finish()
    }

    /// Stops forwarding and waits until the whole body has been read (or has failed).
    func drain() async {
        self.stopForwarding()
        await self.reader.withLock { $0 }?.value
    }

    /// Stops reading at once, for a connection about to be closed.
    func cancel() {
        self.stopForwarding()
        self.reader.withLock { $0 }?.cancel()
    }

    private func read(_ body: RequestBody) async {
        do {
            for try await buffer in body where self.forwarding.withLock({ $0 }) {
                await self.channel.send(buffer)
            }
            self.channel.finish()
        } catch {
            self.failure.withLock { $0 = error }
            self.channel.fail(error)
        }
    }

    /// The body as one upstream request reads it, noting that it did.
    struct Forwarded: AsyncSequence, Sendable {
        let relay: RequestBodyRelay

        struct AsyncIterator: AsyncIteratorProtocol {
            let relay: RequestBodyRelay
            var buffers: AsyncThrowingChannel<ByteBuffer, any Error>.AsyncIterator

            mutating func next() async throws -> ByteBuffer? {
                self.relay.forwardedAny.withLock { $0 = true }
                return try await self.buffers.next()
            }
        }

        func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(relay: self.relay, buffers: self.relay.channel.makeAsyncIterator())
        }
    }
}
