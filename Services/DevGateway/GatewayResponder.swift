import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SimforgeServer

/// The dev gateway's whole request path: route by kong.yml, authenticate and authorize as
/// our Kong plugins do, then proxy to the service, streaming both bodies with backpressure
/// (nothing is buffered, so multi-GB uploads pass in constant memory).
struct GatewayResponder: HTTPResponder {
    typealias Context = SimforgeRequestContext

    let routes: RouteTable
    let policy: GatewayPolicy
    /// Service name → base URL (scheme, host, port, optional path).
    let upstreams: [String: String]
    let client: HTTPClient
    /// The port clients reach the gateway on, for `X-Forwarded-Port`.
    let publicPort: Int

    /// Headers a client must never set: the gateway alone speaks for the consumer.
    static let consumerHeaders: Set<String> = [
        "x-consumer-id", "x-consumer-custom-id", "x-consumer-username", "x-credential-identifier",
        "x-anonymous-consumer", "x-internal-token",
    ]
    /// Per-connection headers (RFC 9110 7.6.1) and those the gateway rewrites.
    static let hopByHopHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "expect", "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
        "x-forwarded-port", "x-forwarded-path", "x-forwarded-prefix", "x-real-ip",
    ]

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = request.headers[RequestIDMiddleware<Context>.header] ?? UUID().uuidString.lowercased()
        var logger = context.logger
        logger[metadataKey: "request.id"] = .string(requestID)
        var response = await self.handle(request, clientAddress: context.remoteAddress?.ipAddress ?? "127.0.0.1", requestID: requestID, logger: logger)
        response.headers[RequestIDMiddleware<Context>.header] = requestID
        return response
    }

    private func handle(_ request: Request, clientAddress: String, requestID: String, logger: Logger) async -> Response {
        if request.uri.path == "/health" {
            return Self.json(.ok, #"{"status":"ok"}"#)
        }
        guard let path = PathNormalizer.normalize(request.uri.path),
              !path.hasPrefix("/internal/"), path != "/internal",
              let match = self.routes.match(method: request.method.rawValue, path: path),
              let upstream = self.upstreams[match.serviceName]
        else {
            return Self.json(.notFound, #"{"message":"no Route matched with those values"}"#)
        }

        let key = self.policy.key(authorization: request.headers[.authorization]) { name in
            HTTPField.Name(name).flatMap { request.headers[$0] }
        }
        let consumer: GatewayPolicy.Consumer
        switch self.policy.decide(key: key, pathUserID: match.captures["userId"]) {
        case .allow(let allowed): consumer = allowed
        case .missingCredentials: return Self.json(.unauthorized, #"{"detail":"Authentication credentials were not provided."}"#)
        case .invalidCredentials: return Self.json(.unauthorized, #"{"detail":"Invalid token."}"#)
        case .forbidden: return Self.json(.forbidden, #"{"detail":"You do not have permission to perform this action."}"#)
        }

        var outbound = HTTPClientRequest(url: upstream + path + (request.uri.query.map { "?" + $0 } ?? ""))
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        outbound.headers = self.upstreamHeaders(for: request, consumer: consumer, clientAddress: clientAddress, requestID: requestID, path: path)
        if let length = request.headers[.contentLength].flatMap(Int64.init) {
            outbound.body = .stream(request.body, length: .known(length))
        } else if [.post, .put, .patch].contains(request.method) {
            outbound.body = .stream(request.body, length: .unknown)
        }

        let upstreamResponse: HTTPClientResponse
        do {
            upstreamResponse = try await self.client.execute(outbound, deadline: .now() + .hours(24), logger: logger)
        } catch {
            logger.warning("upstream failed", metadata: ["gateway.service": "\(match.serviceName)", "error": "\(error)"])
            if let clientError = error as? HTTPClientError, clientError == .readTimeout || clientError == .deadlineExceeded {
                return Self.json(.gatewayTimeout, #"{"message":"The upstream server is timing out"}"#)
            }
            return Self.json(.badGateway, #"{"message":"An invalid response was received from the upstream server"}"#)
        }

        var headers = HTTPFields()
        for header in upstreamResponse.headers where !Self.hopByHopHeaders.contains(header.name.lowercased()) {
            if let name = HTTPField.Name(header.name) {
                headers.append(HTTPField(name: name, value: header.value))
            }
        }
        let body: ResponseBody = request.method == .head ? ResponseBody() : ResponseBody(asyncSequence: upstreamResponse.body)
        return Response(status: .init(code: Int(upstreamResponse.status.code)), headers: headers, body: body)
    }

    private func upstreamHeaders(
        for request: Request, consumer: GatewayPolicy.Consumer, clientAddress: String, requestID: String, path: String
    ) -> HTTPHeaders {
        var headers = HTTPHeaders()
        let dropped = Self.consumerHeaders.union(Self.hopByHopHeaders).union(self.policy.keyNames).union(["authorization", "x-request-id"])
        for field in request.headers where !dropped.contains(field.name.canonicalName) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        headers.add(name: "X-Consumer-ID", value: consumer.id)
        headers.add(name: "X-Consumer-Custom-ID", value: consumer.customID)
        headers.add(name: "X-Consumer-Username", value: consumer.username)
        headers.add(name: "X-Request-ID", value: requestID)

        headers.add(name: "X-Real-IP", value: clientAddress)
        headers.add(name: "X-Forwarded-For", value: clientAddress)
        headers.add(name: "X-Forwarded-Proto", value: "http")
        let authority = request.head.authority ?? "localhost"
        headers.add(name: "X-Forwarded-Host", value: Self.hostWithoutPort(authority))
        headers.add(name: "X-Forwarded-Port", value: String(self.publicPort))
        headers.add(name: "X-Forwarded-Path", value: path)
        return headers
    }

    private static func hostWithoutPort(_ authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[...end])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? Substring(authority))
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
