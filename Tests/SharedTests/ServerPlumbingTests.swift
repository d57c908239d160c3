import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing

/// Pagination, errors, the auth context, the internal token and request ids, through a
/// real router built the way every service builds its own.
@Suite struct ServerPlumbingTests {
    struct Item: Codable, Sendable { var n: Int }
    struct Boom: Error { let secret = "SELECT * FROM secrets WHERE path = '/srv/keys'" }

    static func makeApp() -> some ApplicationProtocol {
        let router = SimforgeHTTP.makeRouter(publicOrigins: TestGateway.publicOrigins)
        let api = SimforgeHTTP.publicRoutes(on: router, gatewaySecret: TestGateway.secret)
        api.get("/items") { request, context -> Page<Item> in
            let page = try PageRequest(request: request)
            let all = (1...25).map(Item.init)
            let slice = Array(all.dropFirst(page.offset).prefix(page.limit))
            return try page.page(count: all.count, results: slice, for: request, context: context)
        }
        api.get("/whoami") { _, context -> String in try context.requireUserId() }
        api.get("/search") { request, _ -> String in try request.queryText("search") ?? "" }
        api.get("/boom") { _, _ -> String in throw Boom() }
        api.get("/invalid") { _, _ -> String in
            throw APIError.validation([
                "name": .messages(["This field is required."]),
                "jobanalyses": .list([.object([:]), .object(["hardware": .object(["coreType": .messages(["unknown core type 'x'"])])])]),
            ])
        }
        router.group("/internal").add(middleware: InternalTokenMiddleware(token: "s3cret")).get("/ping") { _, _ in "pong" }
        SimforgeHTTP.answerUnservedMethods(on: router)
        return Application(router: router)
    }

    static let alice: HTTPFields = TestGateway.headers(for: "alice")

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    @Test func pageLinksAreAbsoluteAndKeepPrefixAndOtherParameters() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            var headers = Self.alice
            headers[HTTPField.Name("X-Forwarded-Proto")!] = "https"
            headers[HTTPField.Name("X-Forwarded-Host")!] = "api.example.org"
            headers[HTTPField.Name("X-Forwarded-Port")!] = "8443"
            let response = try await client.execute(uri: "/alice/api/v2/items/?search=a%20b&page_size=10&page=2", method: .get, headers: headers)
            #expect(response.status == .ok)
            let page = try JSONDecoder().decode(Page<Item>.self, from: Data(buffer: response.body))
            #expect(page.count == 25)
            #expect(page.results.map(\.n) == Array(11...20))
            #expect(page.next == "https://api.example.org:8443/alice/api/v2/items/?search=a%20b&page_size=10&page=3")
            // DRF drops `page` from the link to the first page.
            #expect(page.previous == "https://api.example.org:8443/alice/api/v2/items/?search=a%20b&page_size=10")
        }
    }

    @Test func lastPageHasNoNextAndDefaultPortIsOmitted() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            var headers = Self.alice
            headers[HTTPField.Name("X-Forwarded-Host")!] = "gw.local"
            headers[HTTPField.Name("X-Forwarded-Port")!] = "80"
            let response = try await client.execute(uri: "/alice/api/v2/items?page=3&page_size=10", method: .get, headers: headers)
            let page = try JSONDecoder().decode(Page<Item>.self, from: Data(buffer: response.body))
            #expect(page.results.map(\.n) == [21, 22, 23, 24, 25])
            #expect(page.next == nil)
            #expect(page.previous == "http://gw.local/alice/api/v2/items?page_size=10&page=2")
            let raw = String(buffer: response.body)
            #expect(raw.contains(#""next":null"#))
        }
    }

    @Test func pageSizeIsCappedAtTheMaximumAndDefaulted() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            // Any positive integer is one (deploy/openapi.yaml: no maximum), even past Int.max.
            for size in ["5000", "99999999999999999999", "5636850045669821382656", "0007"] {
                let capped = try await client.execute(uri: "/alice/api/v2/items/?page_size=\(size)", method: .get, headers: Self.alice)
                #expect(capped.status == .ok)
                #expect(try JSONDecoder().decode(Page<Item>.self, from: Data(buffer: capped.body)).results.count == min(25, Int(size) ?? 25))
            }
            #expect(try PageRequest(page: 1, pageSize: 5000).pageSize == 5000)
            #expect(try PageRequest(page: 3, pageSize: 20).offset == 40)
            #expect(PageRequest.defaultPageSize == 100 && PageRequest.maxPageSize == 1000)
        }
    }

    @Test(arguments: ["page_size=0", "page_size=-3", "page_size=ten", "page_size=000", "page_size=", "page_size=1e3", "page_size=+5"])
    func invalidPageSizeIsABadRequest(_ query: String) async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/items/?\(query)", method: .get, headers: Self.alice)
            #expect(response.status == .badRequest)
            #expect(try Self.json(response)["page_size"] as? [String] == ["A valid positive integer is required."])
        }
    }

    /// `(page - 1) * page_size` used to overflow and kill the process.
    @Test(arguments: ["page=9223372036854775807&page_size=1000", "page=9223372036854775807", "page=9223372036854775808",
                      "page=4611686018427387905&page_size=2"])
    func pagesFarPastTheEndAreNotFoundNotACrash(_ query: String) async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/items/?\(query)", method: .get, headers: Self.alice)
            #expect(response.status == .notFound)
            #expect(try Self.json(response)["detail"] as? String == "Invalid page.")
            let next = try await client.execute(uri: "/alice/api/v2/items/", method: .get, headers: Self.alice)
            #expect(next.status == .ok)
        }
    }

    @Test(arguments: ["page=0", "page=abc", "page=4&page_size=10", "page=-1"])
    func invalidPageIsNotFound(_ query: String) async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/items/?\(query)", method: .get, headers: Self.alice)
            #expect(response.status == .notFound)
            #expect(try Self.json(response)["detail"] as? String == "Invalid page.")
        }
    }

    @Test func missingConsumerIsUnauthorized() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(
                uri: "/alice/api/v2/whoami", method: .get, headers: [ConsumerAuthMiddleware.gatewaySecretHeader: TestGateway.secret])
            #expect(response.status == .unauthorized)
            #expect(try Self.json(response)["detail"] as? String == "Authentication credentials were not provided.")
        }
    }

    /// Anyone who reaches a service's port (a job's command, say) can send a consumer
    /// header; only the gateway knows its secret.
    @Test(arguments: [nil, "", "test-gateway-secreT", "test-gateway-secret-and-more"])
    func aConsumerHeaderWithoutTheGatewaysSecretIsNotBelieved(_ secret: String?) async throws {
        try await Self.makeApp().test(.router) { client async throws in
            var headers: HTTPFields = [ConsumerAuthMiddleware.consumerHeader: "alice"]
            if let secret { headers[ConsumerAuthMiddleware.gatewaySecretHeader] = secret }
            let response = try await client.execute(uri: "/alice/api/v2/whoami", method: .get, headers: headers)
            #expect(response.status == .unauthorized)
            #expect(try Self.json(response)["detail"] as? String == "Requests must come through the API gateway.")
        }
    }

    @Test func linksUseTheAddressedOriginOnlyWhenItIsPublished() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            func next(host: String) async throws -> String? {
                let headers = Self.alice + [HTTPField(name: HTTPField.Name("X-Forwarded-Host")!, value: host)]
                let response = try await client.execute(uri: "/alice/api/v2/items/?page_size=10", method: .get, headers: headers)
                return try JSONDecoder().decode(Page<Item>.self, from: Data(buffer: response.body)).next
            }
            #expect(try await next(host: "gw.local") == "http://gw.local/alice/api/v2/items/?page_size=10&page=2")
            #expect(try await next(host: "evil.example") == "http://127.0.0.1:8000/alice/api/v2/items/?page_size=10&page=2")
            #expect(try await next(host: "GW.LOCAL:80") == "http://gw.local/alice/api/v2/items/?page_size=10&page=2")
        }
    }

    @Test func publishedOriginsAreNormalizedAndCheckedAtStart() throws {
        let origins = try PublicOrigins(" HTTPS://API.Example.org:443/ , http://[::1]:8000")
        #expect(origins.origins == ["https://api.example.org", "http://[::1]:8000"])
        for bad in ["", "api.example.org", "ftp://x", "https://x/path", "https://x?q"] {
            #expect(throws: ConfigurationError.self) { try PublicOrigins(bad) }
        }
    }

    @Test func aNullCharacterInAQueryIsABadRequestNamingIt() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/search/?search=a%00b", method: .get, headers: Self.alice)
            #expect(response.status == .badRequest)
            #expect(try Self.json(response)["search"] as? [String] == ["Null characters are not allowed."])
        }
    }

    @Test func aNullCharacterInAJSONBodyIsABadRequestNamingTheField() throws {
        struct Analysis: Codable { var command: String }
        struct Body: Codable { var jobanalyses: [Analysis] }
        // NUL in fields the type does not read is ignored with them.
        let unknown = Data(#"{"jobanalyses": [{"command": "ok", "other\u0000": {"x": "a\u0000b"}}], "more": "\u0000"}"#.utf8)
        #expect(try RequestJSON.decode(Body.self, from: unknown).jobanalyses.map(\.command) == ["ok"])
        let data = Data(#"{"jobanalyses": [{"command": "ok"}, {"command": "a\u0000b"}]}"#.utf8)
        do {
            _ = try RequestJSON.decode(Body.self, from: data)
            Issue.record("accepted a NUL")
        } catch let error as APIError {
            #expect(error == APIError.validation([
                "jobanalyses": .list([.object([:]), .object(["command": .messages(["Null characters are not allowed."])])]),
            ]))
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/items/", method: .delete, headers: Self.alice)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET")
            #expect(try Self.json(response)["detail"] as? String == #"Method "DELETE" not allowed."#)
            let unknown = try await client.execute(uri: "/alice/api/v2/nothing/", method: .delete, headers: Self.alice)
            #expect(unknown.status == .notFound)
        }
    }

    @Test func otherUsersPrefixIsForbidden() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/bob/api/v2/whoami", method: .get, headers: Self.alice)
            #expect(response.status == .forbidden)
            #expect(try Self.json(response)["detail"] as? String == "You do not have permission to perform this action.")
        }
    }

    @Test func matchingConsumerReachesTheHandlerWithItsUserId() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/whoami/", method: .get, headers: Self.alice)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "alice")
        }
    }

    @Test func unexpectedErrorIsAGeneric500WithoutInternals() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/boom", method: .get, headers: Self.alice)
            #expect(response.status == .internalServerError)
            let body = String(buffer: response.body)
            #expect(body == #"{"detail":"A server error occurred."}"#)
            #expect(!body.contains("SELECT"))
        }
    }

    @Test func validationErrorsAreNestedFieldMaps() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/alice/api/v2/invalid", method: .get, headers: Self.alice)
            #expect(response.status == .badRequest)
            let body = try Self.json(response)
            #expect(body["name"] as? [String] == ["This field is required."])
            let analyses = try #require(body["jobanalyses"] as? [[String: Any]])
            #expect(analyses.count == 2)
            #expect(analyses[0].isEmpty)
            let hardware = try #require(analyses[1]["hardware"] as? [String: Any])
            #expect(hardware["coreType"] as? [String] == ["unknown core type 'x'"])
        }
    }

    @Test func unknownRouteIsDRFNotFound() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let response = try await client.execute(uri: "/nowhere", method: .get)
            #expect(response.status == .notFound)
            #expect(String(buffer: response.body) == #"{"detail":"Not found."}"#)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
        }
    }

    @Test func internalRoutesNeedTheToken() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let missing = try await client.execute(uri: "/internal/ping", method: .get)
            #expect(missing.status == .unauthorized)
            let wrong = try await client.execute(uri: "/internal/ping", method: .get, headers: [InternalTokenMiddleware<SimforgeRequestContext>.header: "s3creT"])
            #expect(wrong.status == .unauthorized)
            let right = try await client.execute(uri: "/internal/ping", method: .get, headers: [InternalTokenMiddleware<SimforgeRequestContext>.header: "s3cret"])
            #expect(right.status == .ok)
            #expect(String(buffer: right.body) == "pong")
        }
    }

    @Test func requestIDIsEchoedOrGenerated() async throws {
        try await Self.makeApp().test(.router) { client async throws in
            let header = HTTPField.Name("X-Request-ID")!
            let given = try await client.execute(uri: "/alice/api/v2/whoami", method: .get, headers: Self.alice + [HTTPField(name: header, value: "req-123")])
            #expect(given.headers[header] == "req-123")
            let generated = try await client.execute(uri: "/nowhere", method: .get)
            let id = try #require(generated.headers[header])
            #expect(id.count > 16 && id.allSatisfy(\.isHexDigit))
            let next = try await client.execute(uri: "/nowhere", method: .get)
            #expect(try #require(next.headers[header]) != id)
        }
    }

    @Test func constantTimeEqualsComparesWholeStrings() {
        #expect(constantTimeEquals("abc", "abc"))
        #expect(!constantTimeEquals("abc", "abd"))
        #expect(!constantTimeEquals("abc", "abcd"))
        #expect(!constantTimeEquals("", "a"))
    }
}
