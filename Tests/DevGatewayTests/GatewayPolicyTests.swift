import Testing
import Yams
@testable import DevGateway

@Suite struct GatewayPolicyTests {
    static func policy() throws -> GatewayPolicy {
        let yaml = """
            consumers:
              - username: anonymous
                custom_id: "-anonymous-"
              - username: alice
                custom_id: alice
                keyauth_credentials: [{key: alice-key}]
              - username: bob
                custom_id: bob
                keyauth_credentials: [{key: bob-key}, {key: bob-second-key}]
            plugins:
              - name: key-auth
                config: {key_names: [x-api-key], anonymous: anonymous, hide_credentials: true}
              - name: correlation-id
                config: {header_name: X-Request-ID}
            """
        return try GatewayPolicy(configs: [try YAMLDecoder().decode(KongDeclarativeConfig.self, from: yaml)])
    }

    @Test(arguments: [
        ("Token alice-key", "alice-key"),
        ("token alice-key", "alice-key"),
        ("TOKEN   alice-key", "alice-key"),
        ("Bearer alice-key", nil),
        ("alice-key", nil),
        ("Token", nil),
    ] as [(String, String?)])
    func tokenSchemeIsParsedCaseInsensitively(authorization: String, key: String?) throws {
        #expect(try Self.policy().key(authorization: authorization) { _ in nil } == key)
    }

    @Test func keyHeaderFromKongYmlIsAccepted() throws {
        let policy = try Self.policy()
        #expect(policy.keyNames == ["x-api-key"])
        #expect(policy.key(authorization: nil) { $0 == "x-api-key" ? "bob-key" : nil } == "bob-key")
        #expect(policy.key(authorization: "Token alice-key") { _ in "bob-key" } == "alice-key")
    }

    @Test func decisions() throws {
        let policy = try Self.policy()
        #expect(policy.decide(key: nil, pathUserID: "alice") == .missingCredentials)
        #expect(policy.decide(key: "nope", pathUserID: "alice") == .invalidCredentials)
        #expect(policy.decide(key: "bob-key", pathUserID: "alice") == .forbidden)
        #expect(policy.decide(key: "alice-key", pathUserID: nil) == .forbidden)
        #expect(policy.decide(key: "bob-second-key", pathUserID: "bob")
            == .allow(.init(id: "bob", username: "bob", customID: "bob")))
    }

    @Test func duplicateKeysAreRefused() throws {
        let yaml = """
            consumers:
              - {username: a, custom_id: a, keyauth_credentials: [{key: same}]}
              - {username: b, custom_id: b, keyauth_credentials: [{key: same}]}
            """
        let config = try YAMLDecoder().decode(KongDeclarativeConfig.self, from: yaml)
        #expect(throws: GatewayConfigurationError.self) { try GatewayPolicy(configs: [config]) }
    }
}
