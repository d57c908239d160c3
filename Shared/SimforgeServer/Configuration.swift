import Foundation

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
}

/// Where a service listens.
public struct HTTPServerConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `HTTP_HOST` (default 127.0.0.1) and `HTTP_PORT` (default `defaultPort`).
    public init(environment: EnvironmentReader, defaultPort: Int) throws {
        self.host = environment.string("HTTP_HOST", default: "127.0.0.1")
        self.port = try environment.int("HTTP_PORT", default: defaultPort, range: 0...65535)
    }
}
