import Foundation
import Hummingbird
import HummingbirdTesting
import SimforgeServer
import SimforgeTestSupport
import Testing

/// `Expect: 100-continue` is answered before the client sends the body.
@Suite struct ExpectContinueTests {
    @Test func serverAnswers100ContinueBeforeTheBodyArrives() async throws {
        let router = SimforgeHTTP.makeRouter(publicOrigins: TestGateway.publicOrigins)
        router.post("/upload") { request, _ -> String in
            var count = 0
            for try await buffer in request.body { count += buffer.readableBytes }
            return "got \(count)"
        }
        let app = Application(router: router, server: SimforgeHTTP.server(.loopback()), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let reply = try await RawHTTP.onThread {
                try RawHTTP.exchangeWithExpectContinue(port: port, path: "/upload", body: Data(repeating: 7, count: 1000))
            }
            #expect(reply.interim.hasPrefix("HTTP/1.1 100 Continue"))
            #expect(reply.final.hasPrefix("HTTP/1.1 200"))
            #expect(reply.final.hasSuffix("got 1000"))
        }
    }
}
