import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SimforgeTestSupport
import Testing
@testable import DevGateway

/// The dev gateway balances a service over its targets as kong.yml's upstream says:
/// round-robin, a target that refuses connections skipped without a client seeing it,
/// health checks taking a dead target out and bringing it back.
@Suite struct GatewayBalancingTests {
    typealias H = GatewayHarness

    @Test func requestsGoRoundRobinOverTheTargets() async throws {
        try await H.echoUpstream().test(.live) { first in
            try await H.echoUpstream().test(.live) { second in
                let ports = [try #require(first.port), try #require(second.port)]
                try await Self.withGateway(targets: ports) { client in
                    var served: [Int: Int] = [:]
                    for _ in 0..<10 {
                        let response = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: H.token("alice-token"))
                        #expect(response.status == .ok)
                        served[try Self.servedBy(response), default: 0] += 1
                    }
                    #expect(served == [ports[0]: 5, ports[1]: 5])
                }
            }
        }
    }

    @Test func aTargetThatRefusesConnectionsCostsNoRequest() async throws {
        try await H.echoUpstream().test(.live) { live in
            let livePort = try #require(live.port)
            try await Self.withGateway(targets: [try Self.deadPort(), livePort]) { client in
                for index in 0..<20 {
                    // Bodies too: a request whose connection was never made goes elsewhere whole.
                    let post = index.isMultiple(of: 2)
                    let response = try await client.execute(
                        uri: "/alice/api/v2/analyses/", method: post ? .post : .get, headers: H.token("alice-token"),
                        body: post ? ByteBuffer(repeating: 7, count: 1000) : nil)
                    #expect(response.status == .ok)
                    #expect(try Self.servedBy(response) == livePort)
                    if post { #expect(try H.echo(response).bodyBytes == 1000) }
                }
            }
        }
    }

    @Test func aTargetThatComesBackIsTakenInAgain() async throws {
        try await H.echoUpstream().test(.live) { live in
            let dead = try DeadPort()
            let returning = dead.port
            try await Self.withGateway(targets: [try #require(live.port), returning]) { client in
                for _ in 0..<4 {
                    let response = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: H.token("alice-token"))
                    #expect(response.status == .ok)
                }
                // On the port it had (the test framework would pick another one).
                dead.release()
                let server = Task { try await H.echoUpstream(port: returning).runService(gracefulShutdownSignals: []) }
                defer { server.cancel() }
                // kong.yml probes an unhealthy target every second.
                let deadline = ContinuousClock.now + .seconds(15)
                var reached = false
                while !reached && ContinuousClock.now < deadline {
                    let response = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: H.token("alice-token"))
                    #expect(response.status == .ok)
                    reached = try Self.servedBy(response) == returning
                    if !reached { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(reached, "the target that came back got no request")
            }
        }
    }

    @Test func withNoTargetAliveTheFirstRequestIs502AndThenTheServiceIsUnavailable() async throws {
        try await Self.withGateway(targets: [try Self.deadPort(), try Self.deadPort()]) { client in
            let first = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: H.token("alice-token"))
            #expect(first.status == .badGateway)
            // Health checks take both out: Kong's 503 without trying.
            let deadline = ContinuousClock.now + .seconds(10)
            var last = first
            while last.status != .serviceUnavailable && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                last = try await client.execute(uri: "/alice/api/v2/analyses/", method: .get, headers: H.token("alice-token"))
            }
            #expect(last.status == .serviceUnavailable)
            #expect(H.detail(last) == "failure to get a peer from the ring-balancer")
        }
    }

    @Test func kongDefaultsFillWhatAnUpstreamLeavesOut() throws {
        let policy = try HealthPolicy(nil, upstream: "bare")
        #expect(!policy.probes && policy.httpPath == "/" && policy.timeout == 1)
        #expect(policy.passive.unhealthyStatuses == [429, 500, 503] && policy.passive.tcpFailures == 0)
        let target = UpstreamTarget(url: "http://127.0.0.1:1")
        // Thresholds of 0: nothing changes a target's health.
        for _ in 0..<10 { #expect(target.record(.tcpFailure, by: policy.passive) == nil) }
        #expect(target.isHealthy)
        let checks = KongDeclarativeConfig.Healthchecks(active: .init(type: "tcp"))
        #expect(throws: GatewayConfigurationError.self) { try HealthPolicy(checks, upstream: "tcp-checked") }
    }

    // MARK: - Helpers

    static func withGateway(targets: [Int], _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let configuration = try H.configuration(catalogTargets: targets.map { "http://127.0.0.1:\($0)" })
        let gateway = try buildApplication(configuration: configuration, logger: Logger(label: "gateway-test"))
        try await gateway.test(.live, body)
    }

    /// The port of the echo upstream that answered (it echoes the Host it was sent).
    static func servedBy(_ response: TestResponse) throws -> Int {
        let host = try #require(try H.echo(response).headers["host"])
        return try #require(host.split(separator: ":").last.flatMap { Int($0) })
    }

    /// A loopback port that refuses connections for the rest of the test run.
    static func deadPort() throws -> Int {
        try #require(Int(try DeadPort.url().split(separator: ":").last ?? ""))
    }
}
