import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SimforgeFailover

/// Calls another service's `/internal/...` routes with the internal token, on its replicas
/// in turn (``ServiceReplicas``: a replica that cannot be connected to is skipped). A
/// service none of whose replicas can be reached (or that answers 5xx) is
/// ``APIError/serviceUnavailable`` to our caller, never a 500 with its details.
public struct InternalClient: Sendable {
    private let replicas: ServiceReplicas
    private let token: String
    private let client: HTTPClient
    private let timeout: Duration

    /// - Parameters:
    ///   - baseURLs: the service's replicas, comma-separated (``ServiceReplicas/init(_:)``).
    ///   - client: configured by `HTTPClient.Configuration.simforgeInternal`, so a dead replica is skipped at once.
    public init(baseURLs: String, token: String, client: HTTPClient, timeout: Duration = .seconds(10)) throws {
        self.replicas = try ServiceReplicas(baseURLs)
        self.token = token
        self.client = client
        self.timeout = timeout
    }

    /// GETs `path` and decodes it; `nil` on 404.
    public func get<Value: Decodable>(_ path: String, as type: Value.Type, headers: [(String, String)] = [], logger: Logger) async throws -> Value? {
        let (status, body) = try await self.send(path, method: .GET, body: nil, headers: headers, logger: logger)
        if status == .notFound { return nil }
        guard status == .ok else { throw self.unavailable(path, status: status, logger: logger) }
        return try JSONDecoder.simforge().decode(type, from: body)
    }

    /// GETs `path`'s body, at most `limit` bytes; `nil` on 404.
    public func data(_ path: String, headers: [(String, String)] = [], limit: Int, logger: Logger) async throws -> Data? {
        let (status, body) = try await self.send(path, method: .GET, body: nil, headers: headers, limit: limit, logger: logger)
        if status == .notFound { return nil }
        guard status == .ok else { throw self.unavailable(path, status: status, logger: logger) }
        return body
    }

    /// Sends a JSON body; returns the status (2xx) or throws.
    @discardableResult
    public func send<Body: Encodable>(_ path: String, method: HTTPMethod, json: Body, logger: Logger) async throws -> HTTPResponseStatus {
        let (status, _) = try await self.send(path, method: method, body: try JSONEncoder.simforge().encode(json), headers: [], logger: logger)
        guard (200..<300).contains(status.code) else { throw self.unavailable(path, status: status, logger: logger) }
        return status
    }

    /// Sends a request without a body; returns the status (2xx) or throws.
    @discardableResult
    public func send(_ path: String, method: HTTPMethod, logger: Logger) async throws -> HTTPResponseStatus {
        let (status, _) = try await self.send(path, method: method, body: nil, headers: [], logger: logger)
        guard (200..<300).contains(status.code) else { throw self.unavailable(path, status: status, logger: logger) }
        return status
    }

    private func send(
        _ path: String, method: HTTPMethod, body: Data?, headers: [(String, String)], limit: Int = 16 * 1024 * 1024, logger: Logger
    ) async throws -> (HTTPResponseStatus, Data) {
        var request = HTTPClientRequest(url: "")
        request.method = method
        request.headers.add(name: "X-Internal-Token", value: self.token)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let requestID = logger[metadataKey: "request.id"] { request.headers.add(name: "X-Request-ID", value: "\(requestID)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        do {
            return try await self.replicas.withFailover(method: method, logger: logger) { baseURL in
                var attempt = request
                attempt.url = baseURL + path
                let response = try await self.client.execute(attempt, timeout: .seconds(Int64(self.timeout.components.seconds)), logger: logger)
                let buffer = try await response.body.collect(upTo: limit)
                return (response.status, Data(buffer: buffer))
            }
        } catch {
            logger.warning("internal call failed", metadata: ["internal.replicas": "\(self.replicas)", "internal.path": "\(path)", "error": "\(error)"])
            throw APIError.serviceUnavailable
        }
    }

    private func unavailable(_ path: String, status: HTTPResponseStatus, logger: Logger) -> APIError {
        logger.warning("internal call answered \(status.code)", metadata: ["internal.replicas": "\(self.replicas)", "internal.path": "\(path)"])
        return APIError.serviceUnavailable
    }
}
