import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// What a probe or a proxied request tells about a target: Kong's health-check inputs.
enum TargetOutcome: Sendable, Equatable {
    case status(Int)
    case tcpFailure
    case timeout

    /// A request that failed without an answer: a timeout, or any other failure of the
    /// connection (refused, reset, closed early).
    init(failure error: any Error) {
        switch error {
        case let error as HTTPClientError where error == .connectTimeout || error == .readTimeout || error == .deadlineExceeded:
            self = .timeout
        case ChannelError.connectTimeout:
            self = .timeout
        default:
            self = .tcpFailure
        }
    }

    /// Whether `error` says the connection was never made, so nothing of the request
    /// reached the target and it may go to another one whatever its method.
    static func neverConnected(_ error: any Error) -> Bool {
        switch error {
        case is NIOConnectionError: true
        case let error as HTTPClientError: error == .connectTimeout
        case ChannelError.connectTimeout: true
        // A connect(2) that failed: NIO reports it as an IOError with its errno.
        case let error as IOError: [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL].contains(error.errnoCode)
        default: false
        }
    }
}

/// An upstream's health checks (kong.yml's `healthchecks`) with Kong's defaults for what
/// the file leaves out. A threshold of 0 never changes a target's health; an interval of 0
/// sends no probe in that state.
struct HealthPolicy: Sendable {
    /// The thresholds and status lists of one kind of check, active or passive.
    struct Counting: Sendable {
        var healthyStatuses: Set<Int>
        var successes: Int
        var unhealthyStatuses: Set<Int>
        var tcpFailures: Int
        var timeouts: Int
        var httpFailures: Int
    }

    var active: Counting
    var passive: Counting
    /// Active probes: `GET httpPath`, answered within `timeout` seconds, every
    /// `healthyInterval` seconds while the target is healthy, `unhealthyInterval` while not.
    var httpPath: String
    var timeout: Double
    var healthyInterval: Double
    var unhealthyInterval: Double

    var probes: Bool { self.healthyInterval > 0 || self.unhealthyInterval > 0 }

    init(_ checks: KongDeclarativeConfig.Healthchecks?, upstream: String) throws {
        for type in [checks?.active?.type, checks?.passive?.type].compactMap({ $0 }) where type != "http" {
            throw GatewayConfigurationError("upstream '\(upstream)': the dev gateway runs http health checks only, not \(type)")
        }
        let active = checks?.active
        self.httpPath = active?.http_path ?? "/"
        self.timeout = active?.timeout ?? 1
        self.healthyInterval = active?.healthy?.interval ?? 0
        self.unhealthyInterval = active?.unhealthy?.interval ?? 0
        self.active = Counting(
            healthy: active?.healthy, defaultHealthy: [200, 302],
            unhealthy: active?.unhealthy, defaultUnhealthy: [429, 404, 500, 501, 502, 503, 504, 505])
        self.passive = Counting(
            healthy: checks?.passive?.healthy, defaultHealthy: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226] + Array(300...308),
            unhealthy: checks?.passive?.unhealthy, defaultUnhealthy: [429, 500, 503])
    }
}

extension HealthPolicy.Counting {
    init(
        healthy: KongDeclarativeConfig.Healthchecks.Healthy?, defaultHealthy: [Int],
        unhealthy: KongDeclarativeConfig.Healthchecks.Unhealthy?, defaultUnhealthy: [Int]
    ) {
        self.healthyStatuses = Set(healthy?.http_statuses ?? defaultHealthy)
        self.successes = healthy?.successes ?? 0
        self.unhealthyStatuses = Set(unhealthy?.http_statuses ?? defaultUnhealthy)
        self.tcpFailures = unhealthy?.tcp_failures ?? 0
        self.timeouts = unhealthy?.timeouts ?? 0
        self.httpFailures = unhealthy?.http_failures ?? 0
    }
}

/// One place a service runs (a base URL), and whether the gateway believes it healthy.
/// Kong's counting: a success clears the failure counters, a failure clears the successes;
/// a counter reaching its threshold turns the target healthy or unhealthy.
final class UpstreamTarget: Sendable {
    let url: String
    /// `url` taken apart: where to connect, and the path every request's path follows.
    let host: String
    let port: Int
    let basePath: String
    private let state = Mutex(Counters())

    private struct Counters {
        var healthy = true
        var successes = 0
        var tcpFailures = 0
        var timeouts = 0
        var httpFailures = 0
    }

    init(url: String) {
        self.url = url
        let components = URLComponents(string: url)
        self.host = components?.host ?? "127.0.0.1"
        self.port = components?.port ?? 80
        let path = components?.path ?? ""
        self.basePath = path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    var isHealthy: Bool { self.state.withLock { $0.healthy } }

    /// Counts `outcome` by `counting`'s rules; returns the new health when it changed.
    func record(_ outcome: TargetOutcome, by counting: HealthPolicy.Counting) -> Bool? {
        self.state.withLock { state in
            let before = state.healthy
            switch outcome {
            case .status(let code) where counting.healthyStatuses.contains(code):
                state.successes += 1
                (state.tcpFailures, state.timeouts, state.httpFailures) = (0, 0, 0)
                if counting.successes > 0 && state.successes >= counting.successes { state.healthy = true }
            case .status(let code) where counting.unhealthyStatuses.contains(code):
                state.successes = 0
                state.httpFailures += 1
                if counting.httpFailures > 0 && state.httpFailures >= counting.httpFailures { state.healthy = false }
            case .status:
                break
            case .tcpFailure:
                state.successes = 0
                state.tcpFailures += 1
                if counting.tcpFailures > 0 && state.tcpFailures >= counting.tcpFailures { state.healthy = false }
            case .timeout:
                state.successes = 0
                state.timeouts += 1
                if counting.timeouts > 0 && state.timeouts >= counting.timeouts { state.healthy = false }
            }
            return state.healthy == before ? nil : state.healthy
        }
    }
}

/// Kong's ring-balancer as the dev gateway needs it: a service's requests go round-robin
/// to its healthy targets; a request that could not reach one is tried on another, up to
/// `retries` more times.
final class UpstreamBalancer: Sendable {
    let service: String
    let targets: [UpstreamTarget]
    let policy: HealthPolicy
    let retries: Int
    private let cursor = Atomic<Int>(0)

    init(service: String, targetURLs: [String], policy: HealthPolicy, retries: Int) {
        self.service = service
        self.targets = targetURLs.map(UpstreamTarget.init(url:))
        self.policy = policy
        self.retries = retries
    }

    func hasHealthyTarget(excluding tried: [UpstreamTarget]) -> Bool {
        self.targets.contains { target in target.isHealthy && !tried.contains { $0 === target } }
    }

    /// The next healthy target not in `tried`, or `nil` when there is none.
    func next(excluding tried: [UpstreamTarget]) -> UpstreamTarget? {
        let start = UInt(bitPattern: self.cursor.wrappingAdd(1, ordering: .relaxed).oldValue)
        for offset in 0..<UInt(self.targets.count) {
            let target = self.targets[Int((start &+ offset) % UInt(self.targets.count))]
            if target.isHealthy && !tried.contains(where: { $0 === target }) { return target }
        }
        return nil
    }
}
