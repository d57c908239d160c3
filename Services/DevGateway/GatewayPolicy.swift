/// The consumers of kong.yml and the authentication policy of our Kong setup (the
/// pre-function, key-auth and post-function plugins of kong.yml), applied the same way.
struct GatewayPolicy: Sendable {
    struct Consumer: Sendable, Equatable {
        var id: String
        var username: String
        var customID: String
    }

    enum Decision: Sendable, Equatable {
        case allow(Consumer)
        /// 401: no token in the request.
        case missingCredentials
        /// 401: a token no consumer has.
        case invalidCredentials
        /// 403: the path's `{userId}` is not the consumer's `custom_id`.
        case forbidden
    }

    /// Header names key-auth reads the key from (lowercased), from kong.yml.
    let keyNames: [String]
    /// Whether key-auth hands unknown keys to an anonymous consumer (which the
    /// post-function then refuses) instead of refusing them itself: then such requests
    /// pass the rate-limiting plugin first, under that consumer.
    let hasAnonymousConsumer: Bool
    private let consumersByKey: [String: Consumer]

    init(configs: [KongDeclarativeConfig]) throws {
        let keyAuth = configs.flatMap { $0.plugins ?? [] }.first { $0.name == "key-auth" }
        self.keyNames = (keyAuth?.keyNames ?? ["apikey"]).map { $0.lowercased() }
        let anonymous = keyAuth?.anonymous
        self.hasAnonymousConsumer = anonymous != nil
        var consumersByKey: [String: Consumer] = [:]
        for consumer in configs.flatMap({ $0.consumers ?? [] }) {
            guard let customID = consumer.custom_id else { continue }  // no userId: cannot call a /{userId}/ route
            let username = consumer.username ?? customID
            if let anonymous, anonymous == username || anonymous == consumer.id { continue }
            for credential in consumer.keyauth_credentials ?? [] {
                guard consumersByKey[credential.key] == nil else {
                    throw GatewayConfigurationError("a key-auth key is configured twice (consumer '\(username)')")
                }
                consumersByKey[credential.key] = Consumer(id: consumer.id ?? username, username: username, customID: customID)
            }
        }
        self.consumersByKey = consumersByKey
    }

    /// `Authorization: Token <key>` (scheme case-insensitive), else the key header.
    func key(authorization: String?, keyHeader: (String) -> String?) -> String? {
        if let authorization {
            let parts = authorization.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if parts.count == 2, parts[0].lowercased() == "token" {
                return String(parts[1])
            }
        }
        for name in self.keyNames {
            if let key = keyHeader(name), !key.isEmpty { return key }
        }
        return nil
    }

    /// The consumer a key belongs to, if any.
    func consumer(forKey key: String) -> Consumer? {
        self.consumersByKey[key]
    }

    func decide(key: String?, pathUserID: String?) -> Decision {
        guard let key else { return .missingCredentials }
        guard let consumer = self.consumersByKey[key] else { return .invalidCredentials }
        guard let pathUserID, pathUserID == consumer.customID else { return .forbidden }
        return .allow(consumer)
    }
}
