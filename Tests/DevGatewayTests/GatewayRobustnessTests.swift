import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import DevGateway

/// The gateway survives upstreams and clients that misbehave, and keeps serving: an
/// answer that comes while the client's body is still arriving (it trapped in NIO's async
/// sequence), an upstream that closes before or during its answer, malformed framing,
/// methods the API has not, a client that stops reading.
@Suite struct GatewayRobustnessTests {
    /// Gives handlers the connection, so an upstream can hang up.
    struct ChannelContext: RequestContext {
        var coreContext: CoreRequestContextStorage
        let channel: any Channel

        init(source: ApplicationRequestContextSource) {
            self.coreContext = .init(source: source)
            self.channel = source.channel
        }
    }

    /// `?early=CODE` answers at once without reading the body (as a service's 413, 409 or
    /// 415 does); `?close` hangs up before answering; `?cut` hangs up mid-answer;
    /// `?download=N` sends N bytes; anything else counts the body.
    static func misbehavingUpstream() -> some ApplicationProtocol {
        let router = Router(context: ChannelContext.self)
        let handler: @Sendable (Request, ChannelContext) async throws -> Response = { request, context in
            let query = request.uri.queryParameters
            if let code = query["early"].flatMap({ Int(String($0)) }) {
                return try APIError(HTTPResponse.Status(code: code), detail: "early \(code)").response()
            }
            if query["close"] != nil {
                try await context.channel.close()
                throw CancellationError()
            }
            if query["cut"] != nil {
                return Response(status: .ok, headers: [.contentLength: "100000"], body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(repeating: 1, count: 1000))
                    throw CancellationError()
                })
            }
            if let size = query["download"].flatMap({ Int(String($0)) }) {
                return Response(status: .ok, headers: [.contentLength: String(size)], body: .init(asyncSequence: ChunkSequence(totalBytes: size)))
            }
            var count = 0
            for try await buffer in request.body { count += buffer.readableBytes }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "got \(count)")))
        }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("**", method: method, use: handler)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func withGateway(_ body: @escaping @Sendable (_ gatewayPort: Int, HTTPClient) async throws -> Void) async throws {
        try await Self.misbehavingUpstream().test(.live) { upstream in
            let configuration = try GatewayHarness.configuration(upstreamPort: try #require(upstream.port))
            try await buildApplication(configuration: configuration, logger: Logger(label: "gateway-test")).test(.live) { gateway in
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                do {
                    try await body(try #require(gateway.port), client)
                } catch {
                    try await client.shutdown()
                    throw error
                }
                try await client.shutdown()
            }
        }
    }

    /// 10 MB sent slowly enough that the answer comes long before the last byte.
    struct SlowBody: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        struct AsyncIterator: AsyncIteratorProtocol {
            var left = 160
            mutating func next() async throws -> ByteBuffer? {
                guard self.left > 0 else { return nil }
                self.left -= 1
                try await Task.sleep(for: .milliseconds(4))
                return ByteBuffer(repeating: 7, count: 65536)
            }
        }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
    }

    static func request(_ port: Int, _ query: String, method: HTTPMethod = .GET) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/alice/api/v2/analyses/x?\(query)")
        request.method = method
        request.headers.add(name: "Authorization", value: "Token alice-token")
        return request
    }

    static func isServing(_ port: Int, _ client: HTTPClient) async throws -> Bool {
        let response = try await client.execute(Self.request(port, "n=1"), timeout: .seconds(10))
        let body = String(buffer: try await response.body.collect(upTo: 1024))
        return response.status == .ok && body == "got 0"
    }

    @Test func earlyAnswersToBodiesStillArrivingReachTheClient() async throws {
        try await Self.withGateway { port, client in
            for (code, method, known) in [(413, HTTPMethod.POST, true), (409, .PATCH, true), (415, .POST, false), (404, .PUT, false)] {
                var request = Self.request(port, "early=\(code)", method: method)
                request.body = .stream(SlowBody(), length: known ? .known(Int64(160 * 65536)) : .unknown)
                let response = try await client.execute(request, timeout: .seconds(30))
                #expect(response.status.code == code)
                #expect(String(buffer: try await response.body.collect(upTo: 4096)).contains("early \(code)"))
                #expect(try await Self.isServing(port, client))
            }
            var whole = Self.request(port, "n=2", method: .POST)
            whole.body = .stream(SlowBody(), length: .known(Int64(160 * 65536)))
            let counted = try await client.execute(whole, timeout: .seconds(30))
            #expect(String(buffer: try await counted.body.collect(upTo: 1024)) == "got \(160 * 65536)")
        }
    }

    @Test func upstreamHangingUpIs502OrACutAnswer() async throws {
        try await Self.withGateway { port, client in
            for _ in 0..<3 {
                let closed = try await client.execute(Self.request(port, "close"), timeout: .seconds(10))
                #expect(closed.status == .badGateway)
                let cut = try await client.execute(Self.request(port, "cut"), timeout: .seconds(10))
                #expect(cut.status == .ok)
                await #expect(throws: (any Error).self) { _ = try await cut.body.collect(upTo: 1 << 20) }
                #expect(try await Self.isServing(port, client))
            }
        }
    }

    @Test func traceAndMalformedFramingAreRefusedByTheGateway() async throws {
        try await Self.withGateway { port, client in
            for body in ["", "hello"] {
                let length = body.isEmpty ? [] : ["Content-Length: \(body.utf8.count)"]
                let head = ["TRACE /alice/api/v2/analyses/ HTTP/1.1", "Host: 127.0.0.1", "Authorization: Token alice-token", "Connection: close"]
                    + length
                let trace = try await RawHTTP.onThread {
                    try RawHTTP.sendAndStall(port: port, data: Data((head.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8), limit: 3)
                }
                #expect(trace.reply.hasPrefix("HTTP/1.1 405"))
                #expect(trace.reply.lowercased().contains("allow: get"))
            }
            let chunked = try await RawHTTP.onThread {
                let head = "POST /alice/api/v2/analyses/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token alice-token\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                return try RawHTTP.sendAndStall(port: port, data: Data((head + "5\r\nhello\r\nZZ\r\nxx\r\n").utf8), limit: 5)
            }
            #expect(chunked.reply.hasPrefix("HTTP/1.1 400"), "\(chunked.reply)")
            #expect(chunked.closed)
            // A head that cannot be read is no request to answer: the connection is closed.
            let garbage = try await RawHTTP.onThread {
                try RawHTTP.sendAndStall(port: port, data: Data("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n".utf8), limit: 5)
            }
            #expect(garbage.closed)
            #expect(try await Self.isServing(port, client))
        }
    }

    @Test func clientThatStopsReadingDoesNotStopTheGateway() async throws {
        try await Self.withGateway { port, client in
            let head = "GET /alice/api/v2/analyses/x?download=\(64 << 20) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token alice-token\r\n\r\n"
            async let stuck: Void = RawHTTP.onThread { try RawHTTP.sendWithoutReading(port: port, data: Data(head.utf8), seconds: 3) }
            try await Task.sleep(for: .milliseconds(500))
            for _ in 0..<5 { #expect(try await Self.isServing(port, client)) }
            try await stuck
            #expect(try await Self.isServing(port, client))
        }
    }
}
