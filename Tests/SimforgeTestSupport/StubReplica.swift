import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// Stand-ins for a service's replicas, each a real HTTP server on a loopback port: every
/// request is recorded, then answered (after the replica's delay) with its status and body,
/// by default its name, so a test sees which replica served what.
public final class StubReplica: Sendable {
    public let name: String
    let status: HTTPResponse.Status
    let body: String
    let delay: Duration
    private let received = Mutex<[String]>([])

    /// - Parameters:
    ///   - status, body: what it answers to every request (the body is its name by default).
    ///   - delay: how long it waits before answering (longer than a client's timeout: the
    ///     request reached it, the client gave up).
    public init(_ name: String, status: HTTPResponse.Status = .ok, body: String? = nil, delay: Duration = .zero) {
        self.name = name
        self.status = status
        self.body = body ?? name
        self.delay = delay
    }

    /// `METHOD path` of every request it received, in order.
    public var requests: [String] { self.received.withLock { $0 } }

    /// Runs `body` while every replica serves, with their base URLs (`http://127.0.0.1:port`).
    public static func serving(
        _ replicas: [StubReplica], _ body: @escaping @Sendable (_ baseURLs: [String]) async throws -> Void
    ) async throws {
        guard let first = replicas.first else { return }
        let router = Router()
        router.get("**") { request, _ in try await first.answer(request) }
        router.post("**") { request, _ in try await first.answer(request) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            guard let port = client.port else { throw RawHTTP.SocketError(what: "the stub replica is not listening") }
            let url = "http://127.0.0.1:\(port)"
            if replicas.count == 1 {
                try await body([url])
            } else {
                try await Self.serving(Array(replicas.dropFirst())) { others in try await body([url] + others) }
            }
        }
    }

    private func answer(_ request: Request) async throws -> Response {
        self.received.withLock { $0.append("\(request.method) \(request.uri.path)") }
        _ = try await request.body.collect(upTo: 1 << 20)
        try await Task.sleep(for: self.delay)
        return Response(status: self.status, body: ResponseBody(byteBuffer: ByteBuffer(string: self.body)))
    }

    /// A loopback address nothing listens on: connecting to it is refused at once, as to a
    /// replica that was killed.
    public static func deadURL(host: String = "127.0.0.1") throws -> String {
        try DeadPort.url(host: host)
    }
}
