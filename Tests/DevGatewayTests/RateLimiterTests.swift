import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SimforgeServer
import SimforgeTestSupport
import Testing
import Yams
@testable import DevGateway

/// The dev gateway applies kong.yml's rate-limiting plugin as Kong's `local` policy does.
@Suite struct RateLimiterTests {
    static func configuration(_ yaml: String) throws -> RateLimiter.Configuration {
        let config = try YAMLDecoder().decode(KongDeclarativeConfig.self, from: yaml)
        return try RateLimiter.Configuration(try #require(config.plugins?.first?.rateLimiting))
    }

    static func headers(_ decision: RateLimiter.Decision) -> [String: String] {
        Dictionary(decision.headers, uniquingKeysWith: { $1 })
    }

    @Test func windowsAreFixedOnTheClockAndRefusalsAreNotCounted() async throws {
        let limiter = RateLimiter(configuration: try Self.configuration("""
            plugins:
              - name: rate-limiting
                config: {second: 2, minute: 3, policy: local, limit_by: consumer}
            """))
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // a whole minute
        let first = limiter.take(identifier: "alice", now: t0)
        #expect(first.allowed)
        #expect(Self.headers(first)["X-RateLimit-Limit-Second"] == "2")
        #expect(Self.headers(first)["X-RateLimit-Remaining-Second"] == "1")
        #expect(Self.headers(first)["X-RateLimit-Limit-Minute"] == "3")
        #expect(Self.headers(first)["X-RateLimit-Remaining-Minute"] == "2")
        #expect(Self.headers(first)["RateLimit-Remaining"] == "1")
        #expect(Self.headers(first)["Retry-After"] == nil)

        #expect(limiter.take(identifier: "alice", now: t0.addingTimeInterval(0.5)).allowed)
        let overSecond = limiter.take(identifier: "alice", now: t0.addingTimeInterval(0.9))
        #expect(!overSecond.allowed)
        #expect(Self.headers(overSecond)["Retry-After"] == "1")
        // Another consumer has its own budget.
        #expect(limiter.take(identifier: "bob", now: t0.addingTimeInterval(0.9)).allowed)

        // The next second opens a new second window; the minute has one request left.
        let third = limiter.take(identifier: "alice", now: t0.addingTimeInterval(1.2))
        #expect(third.allowed)
        #expect(Self.headers(third)["X-RateLimit-Remaining-Minute"] == "0")
        let overMinute = limiter.take(identifier: "alice", now: t0.addingTimeInterval(2.5))
        #expect(!overMinute.allowed)
        #expect(Self.headers(overMinute)["RateLimit-Limit"] == "3")
        #expect(Self.headers(overMinute)["RateLimit-Reset"] == "58")
        #expect(Self.headers(overMinute)["Retry-After"] == "58")
        #expect(limiter.take(identifier: "alice", now: t0.addingTimeInterval(60)).allowed)
    }

    @Test func hiddenHeadersLeaveOnlyRetryAfter() async throws {
        let limiter = RateLimiter(configuration: try Self.configuration("""
            plugins:
              - name: rate-limiting
                config: {hour: 1, hide_client_headers: true}
            """))
        #expect(limiter.take(identifier: "a").headers.isEmpty)
        let refused = limiter.take(identifier: "a")
        #expect(!refused.allowed)
        #expect(refused.headers.map(\.0) == ["Retry-After"])
    }

    @Test(arguments: [
        "{minute: 5, policy: redis}",
        "{minute: 5, policy: cluster}",
        "{month: 5}",
        "{minute: 5, limit_by: credential}",
        "{minute: 0}",
        "{policy: local}",
    ])
    func settingsTheDevGatewayCannotHonourAreRefused(config: String) throws {
        #expect(throws: GatewayConfigurationError.self) {
            try Self.configuration("plugins:\n  - name: rate-limiting\n    config: \(config)\n")
        }
    }

    @Test func theShippedLimitsArePerConsumerAndLocal() throws {
        let kong = try KongDeclarativeConfig.load(path: RepositoryPaths.file("kong.yml"))
        let plugin = try #require(kong.plugins?.compactMap(\.rateLimiting).first)
        let configuration = try RateLimiter.Configuration(plugin)
        #expect(configuration.limitBy == .consumer)
        #expect(plugin.policy == "local")
        #expect(configuration.limits == [.minute: 3000])
    }

    // MARK: - Through the gateway

    /// A gateway whose only config allows each consumer 3 requests a day, in front of the
    /// echo upstream, with the usual two users.
    static func withLimitedGateway(
        rateLimiting: String = "on", _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await GatewayHarness.echoUpstream().test(.live) { upstream in
            let port = try #require(upstream.port)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("limited-\(UUID().uuidString).yml")
            try """
                _format_version: "3.0"
                services:
                  - name: catalog
                    url: http://127.0.0.1:\(port)
                    routes:
                      - name: analyses
                        paths: ['~/(?<userId>[A-Za-z0-9_-]{1,64})/api/v2/analyses(?:/.*)?$']
                        strip_path: false
                plugins:
                  - name: key-auth
                    config: {key_names: [x-api-key], anonymous: anonymous, hide_credentials: true}
                  - name: rate-limiting
                    config: {day: 3, limit_by: consumer, policy: local}
                consumers:
                  - username: anonymous
                    custom_id: "-anonymous-"
                \(GatewayHarness.consumers.replacingOccurrences(of: "consumers:\n", with: ""))
                """.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let configuration = try GatewayConfiguration(environment: EnvironmentReader(["GATEWAY_SECRET": "test-gateway-secret",
                "GATEWAY_PORT": "0", "GATEWAY_CONFIG": file.path, "GATEWAY_RATE_LIMITING": rateLimiting,
            ]))
            let gateway = try buildApplication(configuration: configuration, logger: Logger(label: "gateway-test"))
            try await gateway.test(.live, body)
        }
    }

    @Test func theFourthRequestOfAConsumerIsThrottledWithKongsHeaders() async throws {
        try await Self.withLimitedGateway { client in
            for remaining in [2, 1, 0] {
                let response = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: GatewayHarness.token("alice-token"))
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-RateLimit-Remaining-Day")!] == String(remaining))
                #expect(response.headers[HTTPField.Name("RateLimit-Limit")!] == "3")
            }
            let throttled = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: GatewayHarness.token("alice-token"))
            #expect(throttled.status == .tooManyRequests)
            #expect(GatewayHarness.detail(throttled) == "API rate limit exceeded")
            #expect(throttled.headers[HTTPField.Name("Retry-After")!].flatMap(Int.init) ?? 0 > 0)
            #expect(throttled.headers[HTTPField.Name("X-Upstream")!] == nil)

            // Bob's budget is his own; a 403 on another user's prefix still counts for him.
            let forbidden = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: GatewayHarness.token("bob-token"))
            #expect(forbidden.status == .forbidden)
            #expect(forbidden.headers[HTTPField.Name("X-RateLimit-Remaining-Day")!] == "2")
        }
    }

    @Test func unknownTokensShareTheAnonymousBudgetAndMissingOnesAreRefusedFirst() async throws {
        try await Self.withLimitedGateway { client in
            for guess in ["g1", "g2", "g3"] {
                let response = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: GatewayHarness.token(guess))
                #expect(response.status == .unauthorized)
            }
            let throttled = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: GatewayHarness.token("g4"))
            #expect(throttled.status == .tooManyRequests)
            // No token at all: the pre-function refuses it before the rate limiter counts it.
            let missing = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[HTTPField.Name("X-RateLimit-Remaining-Day")!] == nil)
            // Real users are not affected.
            let alice = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: GatewayHarness.token("alice-token"))
            #expect(alice.status == .ok)
        }
    }

    @Test func switchedOffByTheEnvironment() async throws {
        try await Self.withLimitedGateway(rateLimiting: "off") { client in
            for _ in 0..<5 {
                let response = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: GatewayHarness.token("alice-token"))
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-RateLimit-Remaining-Day")!] == nil)
            }
        }
    }
}
