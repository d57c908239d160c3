import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SimforgeTestSupport
import Testing
@testable import DevGateway

/// The gateway's policy and proxying over loopback, with the real kong.yml.
@Suite struct GatewayProxyTests {
    typealias H = GatewayHarness

    @Test func routesAnAuthorizedCallWithPathQueryAndConsumerHeaders() async throws {
        try await H.withGateway { client in
            let response = try await client.execute(uri: "/alice/api/v2/analyses/?search=foam&page=2", method: .get, headers: H.token("alice-token"))
            #expect(response.status == .ok)
            #expect(response.headers[HTTPField.Name("X-Upstream")!] == "echo")
            let echo = try H.echo(response)
            #expect(echo.path == "/alice/api/v2/analyses/")
            #expect(echo.query == "search=foam&page=2")
            #expect(echo.headers["x-consumer-custom-id"] == "alice")
            #expect(echo.headers["x-consumer-username"] == "alice")
            #expect(echo.headers["x-consumer-id"] != nil)
            // hide_credentials: the token never reaches the service.
            #expect(echo.headers["authorization"] == nil)
            #expect(echo.headers["x-api-key"] == nil)
        }
    }

    @Test func keyHeaderWorksLikeTheTokenScheme() async throws {
        try await H.withGateway { client in
            let response = try await client.execute(uri: "/bob/api/v2/coretypes/", method: .get, headers: [HTTPField.Name("x-api-key")!: "bob-token"])
            #expect(response.status == .ok)
            #expect(try H.echo(response).headers["x-consumer-custom-id"] == "bob")
        }
    }

    @Test func missingOrUnknownTokenIsUnauthorized() async throws {
        try await H.withGateway { client in
            let missing = try await client.execute(uri: "/alice/api/v2/", method: .get)
            #expect(missing.status == .unauthorized)
            #expect(H.detail(missing) == "Authentication credentials were not provided.")
            let unknown = try await client.execute(uri: "/alice/api/v2/", method: .get, headers: H.token("guess"))
            #expect(unknown.status == .unauthorized)
            #expect(H.detail(unknown) == "Invalid token.")
            let wrongScheme = try await client.execute(uri: "/alice/api/v2/", method: .get, headers: [.authorization: "Bearer alice-token"])
            #expect(wrongScheme.status == .unauthorized)
        }
    }

    @Test func anotherUsersPrefixIsForbidden() async throws {
        try await H.withGateway { client in
            let response = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: H.token("bob-token"))
            #expect(response.status == .forbidden)
            #expect(H.detail(response) == "You do not have permission to perform this action.")
        }
    }

    @Test func spoofedConsumerAndInternalHeadersAreReplacedOrDropped() async throws {
        try await H.withGateway { client in
            var headers = H.token("bob-token")
            headers[HTTPField.Name("X-Consumer-Custom-ID")!] = "alice"
            headers[HTTPField.Name("X-Consumer-Username")!] = "alice"
            headers[HTTPField.Name("X-Anonymous-Consumer")!] = "true"
            headers[HTTPField.Name("X-Internal-Token")!] = "let-me-in"
            headers[HTTPField.Name("X-Forwarded-Host")!] = "evil.example"
            let response = try await client.execute(uri: "/bob/api/v2/analyses/", method: .get, headers: headers)
            #expect(response.status == .ok)
            let echo = try H.echo(response)
            #expect(echo.headers["x-consumer-custom-id"] == "bob")
            #expect(echo.headers["x-consumer-username"] == "bob")
            #expect(echo.headers["x-anonymous-consumer"] == nil)
            #expect(echo.headers["x-internal-token"] == nil)
            #expect(echo.headers["x-forwarded-host"] != "evil.example")
        }
    }

    @Test func forwardedHeadersAndRequestIDReachTheService() async throws {
        try await H.withGateway { client in
            var headers = H.token("alice-token")
            headers[HTTPField.Name("X-Request-ID")!] = "trace-42"
            let traced = try await client.execute(uri: "/alice/api/v2/", method: .get, headers: headers)
            #expect(traced.headers[HTTPField.Name("X-Request-ID")!] == "trace-42")
            let echo = try H.echo(traced)
            #expect(echo.headers["x-request-id"] == "trace-42")
            #expect(echo.headers["x-forwarded-proto"] == "http")
            #expect(echo.headers["x-forwarded-for"] == "127.0.0.1")
            #expect(echo.headers["x-forwarded-host"] != nil)
            #expect(echo.headers["x-forwarded-port"] != nil)
            #expect(echo.headers["x-forwarded-path"] == "/alice/api/v2/")

            let untraced = try await client.execute(uri: "/alice/api/v2/", method: .get, headers: H.token("alice-token"))
            let generated = try #require(untraced.headers[HTTPField.Name("X-Request-ID")!])
            #expect(try H.echo(untraced).headers["x-request-id"] == generated)
            let refused = try await client.execute(uri: "/alice/api/v2/", method: .get)
            #expect(refused.headers[HTTPField.Name("X-Request-ID")!] != nil)
        }
    }

    @Test(arguments: [
        "/internal/coretypes/hpc",
        "/internal/api/v2/analyses/",
        "/alice/api/v2/../../internal/coretypes/hpc",
        "/alice/api/v2/%2e%2e/%2e%2e/internal/coretypes/hpc",
        "/alice/api/v2/projects/",
        "/nowhere",
    ])
    func pathsWithoutARouteAreNotFoundEvenWithAValidToken(path: String) async throws {
        try await H.withGateway { client in
            let response = try await client.execute(uri: path, method: .get, headers: H.token("alice-token"))
            #expect(response.status == .notFound)
            #expect(response.headers[HTTPField.Name("X-Upstream")!] == nil)
        }
    }

    @Test func bodiesAreForwarded() async throws {
        try await H.withGateway { client in
            let body = ByteBuffer(repeating: 0x41, count: 300_000)
            let response = try await client.execute(uri: "/alice/api/v2/analyses/", method: .post, headers: H.token("alice-token"), body: body)
            let echo = try H.echo(response)
            #expect(echo.method == "POST")
            #expect(echo.bodyBytes == 300_000)
        }
    }

    @Test func expectContinueIsAnsweredByTheGatewayAtOnce() async throws {
        try await H.withGateway { client in
            let port = try #require(client.port)
            let reply = try await RawHTTP.onThread {
                try RawHTTP.exchangeWithExpectContinue(
                    port: port, path: "/alice/api/v2/analyses/", body: Data(repeating: 1, count: 5000),
                    extraHeaders: ["Authorization: Token alice-token"])
            }
            #expect(reply.interim.hasPrefix("HTTP/1.1 100 Continue"))
            #expect(reply.final.hasPrefix("HTTP/1.1 200"))
            #expect(reply.final.contains(#""bodyBytes":5000"#))
            #expect(!reply.final.contains("expect"))
        }
    }

    @Test func unreachableServiceIsBadGateway() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let configuration = try GatewayHarness.configuration(upstreamPort: 9)
        let gateway = try buildApplication(configuration: configuration, logger: .init(label: "gateway-test"))
        try await gateway.test(.live) { client in
            let response = try await client.execute(uri: "/alice/api/v2/", method: .get, headers: H.token("alice-token"))
            #expect(response.status == .badGateway)
        }
    }
}
