import Foundation
import Synchronization

/// The rate-limiting plugin of kong.yml as Kong applies it with `policy: local`: fixed
/// windows aligned on the clock (the current second, minute, hour, day), one count per
/// consumer (or client address with `limit_by: ip`), kept in this process. A request over
/// any limit is refused and not counted. Responses carry Kong's headers.
final class RateLimiter: Sendable {
    enum Period: String, CaseIterable, Sendable {
        case second, minute, hour, day

        var seconds: Int64 {
            switch self {
            case .second: 1
            case .minute: 60
            case .hour: 3600
            case .day: 86400
            }
        }

        /// `Minute` in `X-RateLimit-Limit-Minute`.
        var headerSuffix: String { self.rawValue.prefix(1).uppercased() + self.rawValue.dropFirst() }
    }

    enum LimitBy: String, Sendable {
        case consumer, ip
    }

    struct Configuration: Sendable, Equatable {
        var limits: [Period: Int]
        var limitBy: LimitBy
        var hideClientHeaders: Bool
        var errorCode: Int
        var errorMessage: String

        /// The settings of a `rate-limiting` plugin entry; refuses what the dev gateway
        /// cannot honour the way Kong would.
        init(_ plugin: KongDeclarativeConfig.Plugin.RateLimitingConfig) throws {
            var limits: [Period: Int] = [:]
            for (period, value) in [(Period.second, plugin.second), (.minute, plugin.minute), (.hour, plugin.hour), (.day, plugin.day)] {
                guard let value else { continue }
                guard value > 0 else { throw GatewayConfigurationError("rate-limiting: \(period.rawValue) must be greater than zero") }
                limits[period] = value
            }
            guard plugin.month == nil, plugin.year == nil else {
                throw GatewayConfigurationError("rate-limiting: the dev gateway supports second, minute, hour and day limits")
            }
            guard !limits.isEmpty else { throw GatewayConfigurationError("rate-limiting: set at least one limit") }
            guard (plugin.policy ?? "local") == "local" else {
                throw GatewayConfigurationError("rate-limiting: the dev gateway supports policy: local only")
            }
            guard let limitBy = LimitBy(rawValue: plugin.limit_by ?? "consumer") else {
                throw GatewayConfigurationError("rate-limiting: the dev gateway supports limit_by: consumer or ip")
            }
            self.limits = limits
            self.limitBy = limitBy
            self.hideClientHeaders = plugin.hide_client_headers ?? false
            self.errorCode = plugin.error_code ?? 429
            self.errorMessage = plugin.error_message ?? "API rate limit exceeded"
        }
    }

    struct Decision: Sendable {
        var allowed: Bool
        /// Header name and value, in a stable order.
        var headers: [(String, String)]
    }

    let configuration: Configuration
    private struct Window {
        var start: Int64
        var count: Int
    }
    /// Per identifier, the current window of each period (older windows are dropped).
    private let windows = Mutex<[String: [Period: Window]]>([:])

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Counts one request of `identifier` at `now` unless a limit is reached.
    func take(identifier: String, now: Date = Date()) -> Decision {
        let nowMillis = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        let nowSeconds = nowMillis / 1000
        return self.windows.withLock { windows in
            var current = windows[identifier] ?? [:]
            var stop: Period?
            var usage: [(period: Period, limit: Int, used: Int, start: Int64)] = []
            for period in Period.allCases {
                guard let limit = self.configuration.limits[period] else { continue }
                let start = nowSeconds - nowSeconds % period.seconds
                let used = current[period].map { $0.start == start ? $0.count : 0 } ?? 0
                if limit - used <= 0 { stop = period }
                usage.append((period, limit, used, start))
            }
            if stop == nil {
                for entry in usage {
                    current[entry.period] = Window(start: entry.start, count: entry.used + 1)
                }
                windows[identifier] = current
            }
            return Decision(allowed: stop == nil, headers: self.headers(usage: usage, stop: stop, nowMillis: nowMillis))
        }
    }

    /// Kong's headers: each limit and what remains of it, then `RateLimit-*` for the most
    /// constraining one (least remaining; on a tie, the longer window) and, when refused,
    /// `Retry-After`.
    private func headers(usage: [(period: Period, limit: Int, used: Int, start: Int64)], stop: Period?, nowMillis: Int64) -> [(String, String)] {
        var headers: [(String, String)] = []
        var chosen: (limit: Int, remaining: Int, window: Int64, reset: Int64)?
        for entry in usage {
            var remaining = entry.limit - entry.used
            if stop == nil || stop == entry.period { remaining -= 1 }
            remaining = max(0, remaining)
            let elapsed = (nowMillis - entry.start * 1000) / 1000
            let reset = max(1, entry.period.seconds - elapsed)
            if chosen == nil || remaining < chosen!.remaining || (remaining == chosen!.remaining && entry.period.seconds > chosen!.window) {
                chosen = (entry.limit, remaining, entry.period.seconds, reset)
            }
            if !self.configuration.hideClientHeaders {
                headers.append(("X-RateLimit-Limit-\(entry.period.headerSuffix)", String(entry.limit)))
                headers.append(("X-RateLimit-Remaining-\(entry.period.headerSuffix)", String(remaining)))
            }
        }
        if let chosen {
            if !self.configuration.hideClientHeaders {
                headers.append(("RateLimit-Limit", String(chosen.limit)))
                headers.append(("RateLimit-Remaining", String(chosen.remaining)))
                headers.append(("RateLimit-Reset", String(chosen.reset)))
            }
            if stop != nil { headers.append(("Retry-After", String(chosen.reset))) }
        }
        return headers
    }
}
