import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Calls another service's `/internal/...` routes with the internal token. A service that
/// cannot be reached (or answers 5xx) is ``APIError/serviceUnavailable`` to our caller,
/// never a 500 with its details.
public struct InternalClient: Sendable {
    public let baseURL: String
    private let token: String
    private let client: HTTPClient
    private let timeout: Duration

    public init(baseURL: String, token: String, client: HTTPClient, timeout: Duration = .seconds(10)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
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

    private func send(_ path: String, method: HTTPMethod, body: Data?, headers: [(String, String)], logger: Logger) async throws -> (HTTPResponseStatus, Data) {
        var request = HTTPClientRequest(url: self.baseURL + path)
        request.method = method
        request.headers.add(name: "X-Internal-Token", value: self.token)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let requestID = logger[metadataKey: "request.id"] { request.headers.add(name: "X-Request-ID", value: "\(requestID)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        do {
            let response = try await self.client.execute(request, timeout: .seconds(Int64(self.timeout.components.seconds)), logger: logger)
            let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
            return (response.status, Data(buffer: buffer))
        } catch {
            logger.warning("internal call failed", metadata: ["internal.url": "\(self.baseURL)\(path)", "error": "\(error)"])
            throw APIError.serviceUnavailable
        }
    }

    private func unavailable(_ path: String, status: HTTPResponseStatus, logger: Logger) -> APIError {
        logger.warning("internal call answered \(status.code)", metadata: ["internal.url": "\(self.baseURL)\(path)"])
        return APIError.serviceUnavailable
    }
}
