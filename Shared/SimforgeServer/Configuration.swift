import Foundation
import SimforgeFailover

/// A configuration value that is missing or malformed. Services read their configuration
/// once at start and stop with this message instead of running half-configured.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Typed access to environment variables with clear failures.
public struct EnvironmentReader: Sendable {
    private let values: [String: String]

    /// Reads the process environment, or the given values (tests).
    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    /// The value of `name`, or `nil` when unset or empty.
    public func optional(_ name: String) -> String? {
        guard let value = self.values[name], !value.isEmpty else { return nil }
        return value
    }

    /// The value of `name`; throws when unset or empty.
    public func require(_ name: String) throws -> String {
        guard let value = self.optional(name) else {
            throw ConfigurationError("\(name) is required but not set")
        }
        return value
    }

    /// The value of `name`, or `defaultValue` when unset.
    public func string(_ name: String, default defaultValue: String) -> String {
        self.optional(name) ?? defaultValue
    }

    /// The integer value of `name` within `range`, or `defaultValue` when unset.
    public func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let text = self.optional(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The base URLs of a service's replicas in `name`, comma-separated (one URL is a list
    /// of one), normalized; `nil` when unset. Throws when an entry is not an http(s) URL.
    public func serviceURLs(_ name: String) throws -> String? {
        guard let list = self.optional(name) else { return nil }
        do {
            return try ServiceReplicas(list).description
        } catch {
            throw ConfigurationError("\(name): \(error)")
        }
    }

    /// Like ``serviceURLs(_:)``; throws when unset or empty.
    public func requireServiceURLs(_ name: String) throws -> String {
        guard let list = try self.serviceURLs(name) else { throw ConfigurationError("\(name) is required but not set") }
        return list
    }
}

/// Where a service listens, and how long it waits for a slow client.
public struct HTTPServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// How long a connection may take to send a request's head (counted from the
    /// connection's start, or from the end of the previous answer); then it is closed.
    public var headerTimeout: Duration
    /// How long a request body may stop arriving while the server waits for it; then the
    /// request fails with 408 and the connection is closed.
    public var bodyIdleTimeout: Duration

    public init(host: String, port: Int, headerTimeout: Duration = .seconds(30), bodyIdleTimeout: Duration = .seconds(60)) {
        self.host = host
        self.port = port
        self.headerTimeout = headerTimeout
        self.bodyIdleTimeout = bodyIdleTimeout
    }

    /// `HTTP_HOST` (default 127.0.0.1), `HTTP_PORT` (default `defaultPort`) and the timeouts.
    public init(environment: EnvironmentReader, defaultPort: Int) throws {
        try self.init(
            host: environment.string("HTTP_HOST", default: "127.0.0.1"),
            port: environment.int("HTTP_PORT", default: defaultPort, range: 0...65535),
            environment: environment)
    }

    /// `host` and `port` as given; `HTTP_HEADER_TIMEOUT_SECONDS` (default 30) and
    /// `HTTP_BODY_IDLE_TIMEOUT_SECONDS` (default 60) from the environment.
    public init(host: String, port: Int, environment: EnvironmentReader) throws {
        self.init(
            host: host, port: port,
            headerTimeout: .seconds(try environment.int("HTTP_HEADER_TIMEOUT_SECONDS", default: 30, range: 1...86_400)),
            bodyIdleTimeout: .seconds(try environment.int("HTTP_BODY_IDLE_TIMEOUT_SECONDS", default: 60, range: 1...86_400)))
    }
}
