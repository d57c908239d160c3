import Foundation
import Yams

/// The parts of a Kong 3.x declarative (DB-less) file the dev gateway interprets:
/// services with their routes, upstreams with their targets and health checks, consumers
/// with their key-auth credentials, the key-auth plugin's `key_names` and `anonymous`, and
/// the rate-limiting plugin's limits. Everything else (other plugins, `_transform`, ...) is
/// Kong's business and is ignored here.
struct KongDeclarativeConfig: Decodable {
    struct Service: Decodable {
        var name: String
        /// `protocol://host:port/path`; a host that names an upstream balances over its targets.
        var url: String
        var routes: [Route]?
        var connect_timeout: Int?
        var read_timeout: Int?
        var write_timeout: Int?
        /// How many other targets a request is tried on when one fails before it was sent
        /// (Kong's default: 5).
        var retries: Int?
    }

    /// A load-balanced set of targets (`host:port`), named by a service's host.
    struct Upstream: Decodable {
        struct Target: Decodable {
            var target: String
            var weight: Int?
        }

        var name: String
        var algorithm: String?
        var targets: [Target]?
        var healthchecks: Healthchecks?
    }

    /// An upstream's `healthchecks`, field for field; ``HealthPolicy`` fills in Kong's defaults.
    struct Healthchecks: Decodable, Sendable {
        struct Healthy: Decodable, Sendable {
            var interval: Double?
            var successes: Int?
            var http_statuses: [Int]?
        }

        struct Unhealthy: Decodable, Sendable {
            var interval: Double?
            var tcp_failures: Int?
            var timeouts: Int?
            var http_failures: Int?
            var http_statuses: [Int]?
        }

        struct Active: Decodable, Sendable {
            var type: String?
            var http_path: String?
            var timeout: Double?
            var healthy: Healthy?
            var unhealthy: Unhealthy?
        }

        struct Passive: Decodable, Sendable {
            var type: String?
            var healthy: Healthy?
            var unhealthy: Unhealthy?
        }

        var active: Active?
        var passive: Passive?
    }

    struct Route: Decodable {
        var name: String?
        var paths: [String]
        var methods: [String]?
        var strip_path: Bool?
        var regex_priority: Int?
    }

    struct Consumer: Decodable {
        struct Credential: Decodable {
            var key: String
        }

        var id: String?
        var username: String?
        var custom_id: String?
        var keyauth_credentials: [Credential]?
    }

    struct Plugin: Decodable {
        var name: String
        /// `config.key_names` of a key-auth plugin.
        var keyNames: [String]?
        /// `config.anonymous` of a key-auth plugin: the consumer that stands for "no valid key".
        var anonymous: String?
        /// `config` of a rate-limiting plugin.
        var rateLimiting: RateLimitingConfig?

        struct RateLimitingConfig: Decodable, Sendable {
            var second: Int?
            var minute: Int?
            var hour: Int?
            var day: Int?
            var month: Int?
            var year: Int?
            var limit_by: String?
            var policy: String?
            var hide_client_headers: Bool?
            var error_code: Int?
            var error_message: String?
        }

        private enum CodingKeys: String, CodingKey { case name, config }
        private struct KeyAuthConfig: Decodable {
            var key_names: [String]?
            var anonymous: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try container.decode(String.self, forKey: .name)
            if self.name == "key-auth", let config = try container.decodeIfPresent(KeyAuthConfig.self, forKey: .config) {
                self.keyNames = config.key_names
                self.anonymous = config.anonymous
            }
            if self.name == "rate-limiting" {
                self.rateLimiting = try container.decodeIfPresent(RateLimitingConfig.self, forKey: .config) ?? RateLimitingConfig()
            }
        }
    }

    var _format_version: String?
    var services: [Service]?
    var upstreams: [Upstream]?
    var consumers: [Consumer]?
    var plugins: [Plugin]?

    static func load(path: String) throws -> KongDeclarativeConfig {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try YAMLDecoder().decode(KongDeclarativeConfig.self, from: text)
    }
}
