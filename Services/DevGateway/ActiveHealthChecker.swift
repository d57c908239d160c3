import AsyncHTTPClient
import Logging
import NIOCore
import ServiceLifecycle

/// Kong's active health checks: every target of an upstream that has them is probed
/// (`GET http_path`) at the interval of its current state, and the answer is counted by the
/// active thresholds, so a target that died is taken out without a client's request
/// failing on it, and one that came back is taken in again.
struct ActiveHealthChecker: Service {
    let balancers: [UpstreamBalancer]
    let client: HTTPClient
    let logger: Logger

    func run() async throws {
        let probed = self.balancers.filter(\.policy.probes)
        guard !probed.isEmpty else {
            // Nothing to probe: a service that returned would end the whole group.
            try await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for balancer in probed {
                    for target in balancer.targets {
                        group.addTask { await self.probe(target, of: balancer) }
                    }
                }
            }
        }
    }

    private func probe(_ target: UpstreamTarget, of balancer: UpstreamBalancer) async {
        let policy = balancer.policy
        while !Task.isCancelled {
            let interval = target.isHealthy ? policy.healthyInterval : policy.unhealthyInterval
            // An interval of 0 sends no probe in that state; the state may change meanwhile.
            do {
                try await Task.sleep(for: .milliseconds(Int64((interval > 0 ? interval : 1) * 1000)))
            } catch {
                return
            }
            guard interval > 0 else { continue }
            let outcome = await self.outcome(of: target.url + policy.httpPath, timeout: policy.timeout)
            if let healthy = target.record(outcome, by: policy.active) {
                self.logger.notice("target \(healthy ? "healthy" : "unhealthy") by active check", metadata: [
                    "gateway.service": "\(balancer.service)", "gateway.target": "\(target.url)", "gateway.probe": "\(outcome)",
                ])
            }
        }
    }

    private func outcome(of url: String, timeout: Double) async -> TargetOutcome {
        do {
            let response = try await self.client.execute(
                HTTPClientRequest(url: url), deadline: .now() + .milliseconds(Int64(timeout * 1000)), logger: self.logger)
            _ = try await response.body.collect(upTo: 64 * 1024)
            return .status(Int(response.status.code))
        } catch {
            return TargetOutcome(failure: error)
        }
    }
}
