/// How a service faces its clients, from every service's environment: the secret that
/// proves a request came through the gateway (`GATEWAY_SECRET`, required) and the origins
/// the API is published under (`PUBLIC_URL`).
public struct PublicAPISettings: Sendable {
    /// `GATEWAY_SECRET`: the gateway sends it in `X-Gateway-Secret` with every request; a
    /// consumer header without it is not believed (``ConsumerAuthMiddleware``).
    public var gatewaySecret: String
    /// `PUBLIC_URL`: where links in answers point.
    public var publicOrigins: PublicOrigins

    public init(gatewaySecret: String, publicOrigins: PublicOrigins) {
        self.gatewaySecret = gatewaySecret
        self.publicOrigins = publicOrigins
    }

    public init(environment: EnvironmentReader) throws {
        self.gatewaySecret = try environment.require("GATEWAY_SECRET")
        self.publicOrigins = try PublicOrigins(environment: environment)
    }
}
