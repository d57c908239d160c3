import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Forwards every request it gets on a fixed loopback port to a service whose address is
/// known only later: two services under test that call each other (files asks jobs, jobs
/// calls files), started by HummingbirdTesting on ports of its choosing, reach each other
/// through one. Bodies are small internal calls: they are collected, not streamed.
public final class LateBoundRelay: Sendable {
    public let port: Int
    private let target = NIOLockedValueBox<String?>(nil)

    public init() throws {
        self.port = try FreePort.next()
    }

    public var url: String { "http://127.0.0.1:\(self.port)" }

    /// Where requests go from now on (`http://host:port`).
    public func forward(to url: String) {
        self.target.withLockedValue { $0 = url }
    }

    /// Serves until `body` returns.
    public func serving<Value: Sendable>(_ body: () async throws -> Value) async throws -> Value {
        let router = Router()
        router.on("**", method: .get, use: self.relay)
        router.on("**", method: .post, use: self.relay)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: self.port)))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    @Sendable private func relay(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let target = self.target.withLockedValue({ $0 }) else { return Response(status: .serviceUnavailable) }
        var outbound = HTTPClientRequest(url: target + request.uri.description)
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        outbound.body = .bytes(try await request.body.collect(upTo: 1 << 20))
        let response = try await HTTPClient.shared.execute(outbound, timeout: .seconds(30))
        var headers = HTTPFields()
        for header in response.headers {
            if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(
            status: .init(code: Int(response.status.code)), headers: headers,
            body: .init(byteBuffer: try await response.body.collect(upTo: 16 << 20)))
    }
}
