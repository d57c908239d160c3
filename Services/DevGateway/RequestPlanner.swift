import Foundation
import HTTPTypes
import NIOCore
import SimforgeServer

/// What the gateway does with a request, decided from its head alone, as our Kong plugins
/// decide it: route by kong.yml, authenticate, rate-limit and authorize, then either
/// answer at once (the gateway's own errors, in the shape Kong renders with
/// deploy/compose/kong-error.json: `{"detail": "..."}`) or proxy to a service with the
/// head rewritten for it. Synchronous: it runs on the connection's event loop.
struct RequestPlanner: Sendable {
    let routes: RouteTable
    let policy: GatewayPolicy
    /// kong.yml's rate-limiting plugin, `nil` when it has none or it is switched off.
    let rateLimiter: RateLimiter?
    /// Service name → where its requests go.
    let balancers: [String: UpstreamBalancer]
    /// The port clients reach the gateway on, for `X-Forwarded-Port`.
    let publicPort: Int
    /// Sent to the services in `X-Gateway-Secret`: the request passed the gateway.
    let secret: String
    /// Request headers never passed on: the consumer's (the gateway alone speaks for it),
    /// per-connection ones, those the gateway rewrites, and the credentials.
    private let droppedRequestHeaders: Set<String>

    /// Headers a client must never set: the gateway alone speaks for the consumer.
    static let consumerHeaders: Set<String> = [
        "x-consumer-id", "x-consumer-custom-id", "x-consumer-username", "x-credential-identifier",
        "x-anonymous-consumer", "x-internal-token", "x-gateway-secret",
    ]
    /// The methods the API has; any other (`TRACE`, `CONNECT`, ...) is 405 at the gateway.
    static let proxiedMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
    static let allowHeader = proxiedMethods.map(\.rawValue).joined(separator: ", ")
    /// Per-connection headers (RFC 9110 7.6.1) and those the gateway rewrites.
    static let hopByHopHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "expect", "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
        "x-forwarded-port", "x-forwarded-path", "x-forwarded-prefix", "x-real-ip",
    ]
    static let requestIDHeader = HTTPField.Name("X-Request-ID")!

    init(routes: RouteTable, policy: GatewayPolicy, rateLimiter: RateLimiter?, balancers: [String: UpstreamBalancer], publicPort: Int, secret: String) {
        self.routes = routes
        self.policy = policy
        self.rateLimiter = rateLimiter
        self.balancers = balancers
        self.publicPort = publicPort
        self.secret = secret
        self.droppedRequestHeaders = Self.consumerHeaders.union(Self.hopByHopHeaders).union(policy.keyNames)
            .union(["authorization", "x-request-id"])
    }

    /// A request to proxy: where to, and the head to send there.
    struct ProxyPlan {
        let balancer: UpstreamBalancer
        /// The head for the service, but for its authority and the target's base path.
        var head: HTTPRequest
        /// Idempotent and without a body: may be sent again after a broken connection.
        var resendable: Bool
        /// The rate-limiting plugin's headers, added to the answer.
        var answerHeaders: [(HTTPField.Name, String)]
        var requestID: String
    }

    enum Plan {
        case answer(GatewayAnswer)
        case proxy(ProxyPlan)
    }

    func plan(_ request: HTTPRequest, clientAddress: String) -> Plan {
        let requestID = request.headerFields[Self.requestIDHeader] ?? UUID().uuidString.lowercased()
        let (path, query) = Self.split(request.path ?? "/")
        if path == "/health" {
            return .answer(GatewayAnswer(status: .ok, json: #"{"status":"ok"}"#, requestID: requestID))
        }
        if !Self.proxiedMethods.contains(request.method) {
            return .answer(GatewayAnswer(APIError(.methodNotAllowed, detail: "Method \"\(request.method.rawValue)\" not allowed.", headers: [
                .allow: Self.allowHeader,
            ]), requestID: requestID))
        }
        guard let path = PathNormalizer.normalize(path),
              !path.hasPrefix("/internal/"), path != "/internal",
              let match = self.routes.match(method: request.method.rawValue, path: path),
              let balancer = self.balancers[match.serviceName]
        else {
            return .answer(GatewayAnswer(APIError.notFound("no Route matched with those values"), requestID: requestID))
        }

        var limitHeaders: [(HTTPField.Name, String)] = []
        let consumer: GatewayPolicy.Consumer
        switch self.authorize(request, pathUserID: match.captures["userId"], clientAddress: clientAddress, limitHeaders: &limitHeaders) {
        case .success(let allowed):
            consumer = allowed
        case .failure(let refusal):
            var answer = GatewayAnswer(refusal, requestID: requestID)
            answer.headers.append(contentsOf: limitHeaders.map { HTTPField(name: $0.0, value: $0.1) })
            return .answer(answer)
        }
        let head = HTTPRequest(
            method: request.method, scheme: "http", authority: nil, path: path + (query.map { "?" + $0 } ?? ""),
            headerFields: self.upstreamHeaders(for: request, consumer: consumer, clientAddress: clientAddress, requestID: requestID, path: path))
        let hasBody = request.headerFields[.contentLength].map { $0 != "0" } ?? (request.headerFields[.transferEncoding] != nil)
        return .proxy(ProxyPlan(
            balancer: balancer, head: head, resendable: !hasBody && [.get, .head, .options].contains(request.method),
            answerHeaders: limitHeaders, requestID: requestID))
    }

    /// The plugins in Kong's order: the pre-function (401 without a token), key-auth (an
    /// unknown token maps to the anonymous consumer), rate-limiting (429), the
    /// post-function (401 for the anonymous consumer, 403 for another user's prefix).
    private func authorize(
        _ request: HTTPRequest, pathUserID: String?, clientAddress: String, limitHeaders: inout [(HTTPField.Name, String)]
    ) -> Result<GatewayPolicy.Consumer, APIError> {
        let key = self.policy.key(authorization: request.headerFields[.authorization]) { name in
            HTTPField.Name(name).flatMap { request.headerFields[$0] }
        }
        guard let key else { return .failure(.notAuthenticated) }
        let known = self.policy.consumer(forKey: key)
        if known == nil && !self.policy.hasAnonymousConsumer {
            return .failure(APIError(.unauthorized, detail: "Invalid token."))
        }
        if let limiter = self.rateLimiter {
            let identifier = limiter.configuration.limitBy == .ip ? clientAddress : known?.id ?? "anonymous"
            let decision = limiter.take(identifier: identifier)
            limitHeaders = decision.headers.compactMap { name, value in HTTPField.Name(name).map { ($0, value) } }
            if !decision.allowed {
                let status = HTTPResponse.Status(code: limiter.configuration.errorCode)
                return .failure(APIError(status, detail: limiter.configuration.errorMessage))
            }
        }
        switch self.policy.decide(key: key, pathUserID: pathUserID) {
        case .allow(let allowed): return .success(allowed)
        case .missingCredentials: return .failure(.notAuthenticated)
        case .invalidCredentials: return .failure(APIError(.unauthorized, detail: "Invalid token."))
        case .forbidden: return .failure(.permissionDenied)
        }
    }

    private func upstreamHeaders(
        for request: HTTPRequest, consumer: GatewayPolicy.Consumer, clientAddress: String, requestID: String, path: String
    ) -> HTTPFields {
        var headers = HTTPFields()
        headers.reserveCapacity(request.headerFields.count + 12)
        for field in request.headerFields where !self.droppedRequestHeaders.contains(field.name.canonicalName) {
            headers.append(field)
        }
        // The body's framing is the gateway's own on the upstream connection.
        if request.headerFields[.contentLength] == nil, request.headerFields[.transferEncoding] != nil {
            headers[.transferEncoding] = "chunked"
        }
        headers.append(HTTPField(name: .consumerID, value: consumer.id))
        headers.append(HTTPField(name: .consumerCustomID, value: consumer.customID))
        headers.append(HTTPField(name: .consumerUsername, value: consumer.username))
        headers.append(HTTPField(name: .gatewaySecret, value: self.secret))
        headers.append(HTTPField(name: Self.requestIDHeader, value: requestID))

        headers.append(HTTPField(name: .realIP, value: clientAddress))
        headers.append(HTTPField(name: .forwardedFor, value: clientAddress))
        headers.append(HTTPField(name: .forwardedProto, value: "http"))
        headers.append(HTTPField(name: .forwardedHost, value: Self.hostWithoutPort(request.authority ?? "localhost")))
        headers.append(HTTPField(name: .forwardedPort, value: String(self.publicPort)))
        headers.append(HTTPField(name: .forwardedPath, value: path))
        return headers
    }

    /// A request target's path and query.
    private static func split(_ target: String) -> (path: String, query: String?) {
        guard let mark = target.firstIndex(of: "?") else { return (target, nil) }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    private static func hostWithoutPort(_ authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[...end])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? Substring(authority))
    }
}

/// An answer the gateway gives itself, whole.
struct GatewayAnswer {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    init(status: HTTPResponse.Status, json: String, requestID: String) {
        self.status = status
        self.headers = [.contentType: Self.jsonContentType, RequestPlanner.requestIDHeader: requestID]
        self.body = ByteBuffer(string: json)
    }

    init(_ error: APIError, requestID: String) {
        self.status = error.status
        self.headers = error.headers
        self.headers[.contentType] = Self.jsonContentType
        self.headers[RequestPlanner.requestIDHeader] = requestID
        self.body = (try? error.jsonBody()) ?? ByteBuffer()
    }

    static let jsonContentType = "application/json; charset=utf-8"
}

extension HTTPField.Name {
    static let consumerID = Self("X-Consumer-ID")!
    static let consumerCustomID = Self("X-Consumer-Custom-ID")!
    static let consumerUsername = Self("X-Consumer-Username")!
    static let gatewaySecret = Self("X-Gateway-Secret")!
    static let realIP = Self("X-Real-IP")!
    static let forwardedFor = Self("X-Forwarded-For")!
    static let forwardedProto = Self("X-Forwarded-Proto")!
    static let forwardedHost = Self("X-Forwarded-Host")!
    static let forwardedPort = Self("X-Forwarded-Port")!
    static let forwardedPath = Self("X-Forwarded-Path")!
}
