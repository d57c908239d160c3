import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SimforgeServer

/// The dev gateway's whole request path: route by kong.yml, authenticate, rate-limit and
/// authorize as our Kong plugins do, then proxy to the service, streaming both bodies with
/// backpressure (nothing is buffered, so multi-GB uploads pass in constant memory). The
/// gateway's own errors have the shape of Kong's with deploy/compose/kong-error.json:
/// `{"detail": "..."}`.
struct GatewayResponder: HTTPResponder {
    typealias Context = SimforgeRequestContext

    let routes: RouteTable
    let policy: GatewayPolicy
    /// kong.yml's rate-limiting plugin, `nil` when it has none or it is switched off.
    let rateLimiter: RateLimiter?
    /// Service name → where its requests go.
    let balancers: [String: UpstreamBalancer]
    let client: HTTPClient
    /// The port clients reach the gateway on, for `X-Forwarded-Port`.
    let publicPort: Int
    /// Sent to the services in `X-Gateway-Secret`: the request passed the gateway.
    let secret: String

    /// Headers a client must never set: the gateway alone speaks for the consumer.
    static let consumerHeaders: Set<String> = [
        "x-consumer-id", "x-consumer-custom-id", "x-consumer-username", "x-credential-identifier",
        "x-anonymous-consumer", "x-internal-token", "x-gateway-secret",
    ]
    /// The methods the API has; any other (`TRACE`, `CONNECT`, ...) is 405 at the gateway.
    static let proxiedMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
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
        if !Self.proxiedMethods.contains(request.method) {
            return Self.error(APIError(.methodNotAllowed, detail: "Method \"\(request.method.rawValue)\" not allowed.", headers: [
                .allow: Self.proxiedMethods.map(\.rawValue).joined(separator: ", "),
            ]))
        }
        guard let path = PathNormalizer.normalize(request.uri.path),
              !path.hasPrefix("/internal/"), path != "/internal",
              let match = self.routes.match(method: request.method.rawValue, path: path),
              let balancer = self.balancers[match.serviceName]
        else {
            return Self.error(APIError.notFound("no Route matched with those values"))
        }

        var limitHeaders: [(String, String)] = []
        let consumer: GatewayPolicy.Consumer
        switch await self.authorize(request, pathUserID: match.captures["userId"], clientAddress: clientAddress, limitHeaders: &limitHeaders) {
        case .success(let allowed): consumer = allowed
        case .failure(let refusal): return Self.adding(limitHeaders, to: refusal.response)
        }
        let response = await self.proxy(request, path: path, balancer: balancer, consumer: consumer,
                                        clientAddress: clientAddress, requestID: requestID, logger: logger)
        return Self.adding(limitHeaders, to: response)
    }

    private struct Refusal: Error {
        var response: Response
    }

    /// The plugins in Kong's order: the pre-function (401 without a token), key-auth (an
    /// unknown token maps to the anonymous consumer), rate-limiting (429), the
    /// post-function (401 for the anonymous consumer, 403 for another user's prefix).
    private func authorize(
        _ request: Request, pathUserID: String?, clientAddress: String, limitHeaders: inout [(String, String)]
    ) async -> Result<GatewayPolicy.Consumer, Refusal> {
        let key = self.policy.key(authorization: request.headers[.authorization]) { name in
            HTTPField.Name(name).flatMap { request.headers[$0] }
        }
        guard let key else { return .failure(Refusal(response: Self.error(.notAuthenticated))) }
        let known = self.policy.consumer(forKey: key)
        if known == nil && !self.policy.hasAnonymousConsumer {
            return .failure(Refusal(response: Self.error(APIError(.unauthorized, detail: "Invalid token."))))
        }
        if let limiter = self.rateLimiter {
            let identifier = limiter.configuration.limitBy == .ip ? clientAddress : known?.id ?? "anonymous"
            let decision = await limiter.take(identifier: identifier)
            limitHeaders = decision.headers
            if !decision.allowed {
                let status = HTTPResponse.Status(code: limiter.configuration.errorCode)
                return .failure(Refusal(response: Self.error(APIError(status, detail: limiter.configuration.errorMessage))))
            }
        }
        switch self.policy.decide(key: key, pathUserID: pathUserID) {
        case .allow(let allowed): return .success(allowed)
        case .missingCredentials: return .failure(Refusal(response: Self.error(.notAuthenticated)))
        case .invalidCredentials: return .failure(Refusal(response: Self.error(APIError(.unauthorized, detail: "Invalid token."))))
        case .forbidden: return .failure(Refusal(response: Self.error(.permissionDenied)))
        }
    }

    private func proxy(
        _ request: Request, path: String, balancer: UpstreamBalancer, consumer: GatewayPolicy.Consumer,
        clientAddress: String, requestID: String, logger: Logger
    ) async -> Response {
        let outboundHeaders = self.upstreamHeaders(for: request, consumer: consumer, clientAddress: clientAddress, requestID: requestID, path: path)
        var bodyLength: HTTPClientRequest.Body.Length?
        if let length = request.headers[.contentLength].flatMap(Int64.init), length >= 0 {
            bodyLength = .known(length)
        } else if [.post, .put, .patch].contains(request.method) {
            bodyLength = .unknown
        }
        let relay = bodyLength.map { _ in RequestBodyRelay.start(reading: request.body) }
        // Idempotent requests without a body may be sent again after a failure; any request
        // may go to another target when its connection was never made (as Kong does).
        let resendable = relay == nil && [.get, .head, .options].contains(request.method)

        var tried: [UpstreamTarget] = []
        let upstreamResponse: HTTPClientResponse
        while true {
            guard let target = balancer.next(excluding: tried) else {
                await relay?.drain()
                logger.warning("no healthy target", metadata: ["gateway.service": "\(balancer.service)"])
                return Self.error(APIError(.serviceUnavailable, detail: "failure to get a peer from the ring-balancer"))
            }
            tried.append(target)
            var outbound = HTTPClientRequest(url: target.url + path + (request.uri.query.map { "?" + $0 } ?? ""))
            outbound.method = HTTPMethod(rawValue: request.method.rawValue)
            outbound.headers = outboundHeaders
            if let relay, let bodyLength {
                outbound.body = .stream(relay.forwarded, length: bodyLength)
            }
            do {
                let response = try await self.client.execute(outbound, deadline: .now() + .hours(24), logger: logger)
                self.record(.status(Int(response.status.code)), for: target, of: balancer, logger: logger)
                upstreamResponse = response
                break
            } catch {
                let outcome = TargetOutcome(failure: error)
                self.record(outcome, for: target, of: balancer, logger: logger)
                logger.warning("upstream failed", metadata: [
                    "gateway.service": "\(balancer.service)", "gateway.target": "\(target.url)", "error": "\(error)",
                ])
                let resend = (resendable && outcome != .timeout) || (TargetOutcome.neverConnected(error) && !(relay?.hasForwarded ?? false))
                if resend, tried.count <= balancer.retries, balancer.hasHealthyTarget(excluding: tried) { continue }
                // The client's answer comes once its whole body is in (or has failed).
                await relay?.drain()
                if let failure = relay?.clientFailure {
                    logger.info("client body failed", metadata: ["error": "\(failure)"])
                    return Self.error(failure as? APIError ?? APIError.badRequest("Malformed request body."))
                }
                if outcome == .timeout {
                    return Self.error(APIError(.gatewayTimeout, detail: "The upstream server is timing out"))
                }
                return Self.error(APIError(.badGateway, detail: "An invalid response was received from the upstream server"))
            }
        }

        var headers = HTTPFields()
        for header in upstreamResponse.headers where !Self.hopByHopHeaders.contains(header.name.lowercased()) {
            if let name = HTTPField.Name(header.name) {
                headers.append(HTTPField(name: name, value: header.value))
            }
        }
        let relayBody = request.method != .head
        let body = ResponseBody { writer in
            do {
                if relayBody {
                    for try await buffer in upstreamResponse.body { try await writer.write(buffer) }
                }
            } catch {
                // Cut mid-answer: the client's connection is closed, so it sees the answer is incomplete.
                relay?.cancel()
                throw error
            }
            await relay?.drain()
            try await writer.finish(nil)
        }
        return Response(status: .init(code: Int(upstreamResponse.status.code)), headers: headers, body: body)
    }

    /// Passive health checks: what a proxied request showed counts by the passive rules.
    private func record(_ outcome: TargetOutcome, for target: UpstreamTarget, of balancer: UpstreamBalancer, logger: Logger) {
        if let healthy = target.record(outcome, by: balancer.policy.passive) {
            logger.notice("target \(healthy ? "healthy" : "unhealthy") by passive check", metadata: [
                "gateway.service": "\(balancer.service)", "gateway.target": "\(target.url)", "gateway.outcome": "\(outcome)",
            ])
        }
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
        headers.add(name: "X-Gateway-Secret", value: self.secret)
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

    /// A gateway error in the API's shape (Kong renders its own errors so through the
    /// JSON error template of the compose stack).
    private static func error(_ error: APIError) -> Response {
        (try? error.response()) ?? Response(status: error.status)
    }

    private static func adding(_ headers: [(String, String)], to response: Response) -> Response {
        guard !headers.isEmpty else { return response }
        var response = response
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { response.headers.append(HTTPField(name: field, value: value)) }
        }
        return response
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = Response.jsonContentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
