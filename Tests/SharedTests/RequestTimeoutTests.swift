import Foundation
import Hummingbird
import HummingbirdTesting
import SimforgeServer
import SimforgeTestSupport
import Testing

/// Slow clients are cut off by the shared server's timeouts (``RequestTimeoutHandler``),
/// on a real loopback connection, while other clients are served.
@Suite struct RequestTimeoutTests {
    static let http = HTTPServerConfiguration(host: "127.0.0.1", port: 0, headerTimeout: .seconds(1), bodyIdleTimeout: .seconds(1))

    static func withApp(_ body: @escaping @Sendable (any TestClientProtocol, Int) async throws -> Void) async throws {
        let router = SimforgeHTTP.makeRouter(publicOrigins: TestGateway.publicOrigins)
        router.get("/ping") { _, _ in "pong" }
        router.get("/slow") { _, _ -> String in
            try await Task.sleep(for: .milliseconds(2500))
            return "done"
        }
        router.post("/upload") { request, _ -> String in
            var count = 0
            for try await buffer in request.body { count += buffer.readableBytes }
            return "got \(count)"
        }
        let app = Application(router: router, server: SimforgeHTTP.server(Self.http), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(client, try #require(client.port)) }
    }

    /// Another client is served meanwhile, on a connection of its own made now (the test
    /// client's connection may have idled past the 1 s header timeout on a busy machine).
    static func otherClientIsServed(port: Int) async throws -> Bool {
        let result = try await RawHTTP.onThread {
            try RawHTTP.sendAndStall(port: port, data: Data("GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), limit: 10)
        }
        return result.reply.hasPrefix("HTTP/1.1 200") && result.reply.hasSuffix("pong")
    }

    @Test func connectionThatNeverFinishesItsHeadIsClosed() async throws {
        try await Self.withApp { _, port in
            async let stalled = RawHTTP.onThread {
                try RawHTTP.sendAndStall(port: port, data: Data("GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8), limit: 10)
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await Self.otherClientIsServed(port: port))
            let result = try await stalled
            #expect(result.closed)
            #expect(result.seconds < 3, "closed after \(result.seconds) s")
            #expect(result.reply.isEmpty)
        }
    }

    @Test func idleKeepAliveConnectionIsClosedAfterItsAnswer() async throws {
        try await Self.withApp { _, port in
            let result = try await RawHTTP.onThread {
                try RawHTTP.sendAndStall(port: port, data: Data("GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8), limit: 10)
            }
            #expect(result.reply.hasPrefix("HTTP/1.1 200"))
            #expect(result.closed)
            #expect(result.seconds < 3)
        }
    }

    @Test func stalledBodyIsAnswered408AndClosed() async throws {
        try await Self.withApp { _, port in
            async let stalled = RawHTTP.onThread {
                let head = "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"
                return try RawHTTP.sendAndStall(port: port, data: Data(head.utf8) + Data(repeating: 1, count: 5000), limit: 10)
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await Self.otherClientIsServed(port: port))
            let result = try await stalled
            #expect(result.closed)
            #expect(result.seconds < 3, "answered after \(result.seconds) s")
            #expect(result.reply.hasPrefix("HTTP/1.1 408"))
            #expect(result.reply.contains(#""detail""#) && result.reply.contains("The request body stopped arriving."))
        }
    }

    @Test func answerSlowerThanTheTimeoutsIsStillDelivered() async throws {
        try await Self.withApp { client, _ in
            let response = try await client.execute(uri: "/slow", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "done")
            let upload = try await client.execute(uri: "/upload", method: .post, body: ByteBuffer(repeating: 2, count: 3_000_000))
            #expect(String(buffer: upload.body) == "got 3000000")
        }
    }
}
