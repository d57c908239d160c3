import HTTPTypes
import SimforgeServer

/// What the gateway adds to a request in front of the services under test: the consumer it
/// authenticated and its secret; and the origins links may use.
public enum TestGateway {
    public static let secret = "test-gateway-secret"

    /// The origins the tests address the services by (the first is the default).
    public static let publicOrigins = try! PublicOrigins(
        "http://127.0.0.1:8000,https://api.example.com,https://other.example.com,http://gw.test:8000,https://api.example.org:8443,"
            + "http://gw.local")

    public static let publicAPI = PublicAPISettings(gatewaySecret: secret, publicOrigins: publicOrigins)

    /// The environment variables of ``publicAPI``, for services configured from an environment.
    public static let environment = ["GATEWAY_SECRET": secret, "PUBLIC_URL": publicOrigins.origins.joined(separator: ",")]

    /// The headers the gateway sends for `user`.
    public static func headers(for user: String) -> HTTPFields {
        [ConsumerAuthMiddleware.consumerHeader: user, ConsumerAuthMiddleware.gatewaySecretHeader: secret]
    }
}
