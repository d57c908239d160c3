import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import DevGateway

/// An upstream that answers every request with what it received, and a gateway in front
/// of it configured by the real kong.yml plus a consumers file, both live on loopback.
enum GatewayHarness {
    struct Echo: Codable, Sendable {
        var method: String
        var path: String
        var query: String?
        var headers: [String: String]
        var bodyBytes: Int
    }

    static let consumers = """
        consumers:
          - username: alice
            custom_id: alice
            keyauth_credentials: [{key: alice-token}]
          - username: bob
            custom_id: bob
            keyauth_credentials: [{key: bob-token}]
        """

    static func echoUpstream(port: Int = 0) -> some ApplicationProtocol {
        let router = Router()
        let echo: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            if request.method == .get, let size = request.uri.queryParameters["download"].flatMap({ Int(String($0)) }) {
                return Response(status: .ok, headers: [.contentLength: String(size)], body: .init(asyncSequence: ChunkSequence(totalBytes: size)))
            }
            var count = 0
            for try await buffer in request.body { count += buffer.readableBytes }
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            if let authority = request.head.authority { headers["host"] = authority }
            let echo = Echo(method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers, bodyBytes: count)
            var responseHeaders = HTTPFields()
            responseHeaders[.contentType] = "application/json"
            responseHeaders[HTTPField.Name("X-Upstream")!] = "echo"
            return Response(status: .ok, headers: responseHeaders, body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(echo))))
        }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("**", method: method, use: echo)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
    }

    /// Writes the consumers file and returns the gateway configuration pointing the
    /// kong.yml `catalog` service at `upstreamPort`.
    static func configuration(upstreamPort: Int) throws -> GatewayConfiguration {
        try Self.configuration(catalogTargets: ["http://127.0.0.1:\(upstreamPort)"])
    }

    /// The gateway configuration balancing the kong.yml `catalog` service over `catalogTargets`.
    static func configuration(catalogTargets: [String]) throws -> GatewayConfiguration {
        let consumersFile = FileManager.default.temporaryDirectory.appendingPathComponent("consumers-\(UUID().uuidString).yml")
        try Self.consumers.write(to: consumersFile, atomically: true, encoding: .utf8)
        return try GatewayConfiguration(environment: EnvironmentReader(["GATEWAY_SECRET": "test-gateway-secret",
            "GATEWAY_PORT": "0",
            "GATEWAY_CONFIG": RepositoryPaths.file("kong.yml") + "," + consumersFile.path,
            "GATEWAY_UPSTREAM_CATALOG": catalogTargets.joined(separator: ","),
        ]))
    }

    /// Runs `body` with a client of the gateway, the upstream being the echo server.
    static func withGateway(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Self.echoUpstream().test(.live) { upstream in
            let port = try #require(upstream.port)
            let gateway = try buildApplication(configuration: try configuration(upstreamPort: port), logger: Logger(label: "gateway-test"))
            try await gateway.test(.live, body)
        }
    }

    static func token(_ value: String) -> HTTPFields {
        [.authorization: "Token \(value)"]
    }

    static func echo(_ response: TestResponse) throws -> Echo {
        try JSONDecoder().decode(Echo.self, from: Data(buffer: response.body))
    }

    static func detail(_ response: TestResponse) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["detail"] as? String
    }
}

/// `totalBytes` bytes in 64 KiB buffers, made as they are pulled.
struct ChunkSequence: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    static let chunk = ByteBuffer(repeating: 0x5A, count: 64 * 1024)
    let totalBytes: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: Int
        mutating func next() async -> ByteBuffer? {
            guard self.remaining > 0 else { return nil }
            let size = Swift.min(self.remaining, ChunkSequence.chunk.readableBytes)
            self.remaining -= size
            return ChunkSequence.chunk.getSlice(at: 0, length: size)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: self.totalBytes) }
}
