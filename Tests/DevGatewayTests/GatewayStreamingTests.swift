import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeTestSupport
import Testing
@testable import DevGateway

/// The built dev-gateway executable streams bodies far larger than it could buffer, both
/// ways, and its peak memory stays flat.
@Suite struct GatewayStreamingTests {
    static let bodyBytes = 384 * 1024 * 1024
    static let peakLimit = 96 * 1024 * 1024

    @Test func streamsLargeBodiesBothWaysInBoundedMemory() async throws {
        try await GatewayHarness.echoUpstream().test(.live) { upstream in
            let upstreamPort = try #require(upstream.port)
            let gatewayPort = try FreePort.next()
            let consumers = FileManager.default.temporaryDirectory.appendingPathComponent("stream-consumers-\(UUID().uuidString).yml")
            try GatewayHarness.consumers.write(to: consumers, atomically: true, encoding: .utf8)
            let gateway = try ChildProcess(
                executable: RepositoryPaths.binaries.appendingPathComponent("dev-gateway"),
                environment: [
                    "GATEWAY_SECRET": "test-gateway-secret",
                    "GATEWAY_PORT": String(gatewayPort),
                    "GATEWAY_CONFIG": RepositoryPaths.file("kong.yml") + "," + consumers.path,
                    "GATEWAY_UPSTREAM_CATALOG": "http://127.0.0.1:\(upstreamPort)",
                    "LOG_LEVEL": "warning",
                ],
                logFile: FileManager.default.temporaryDirectory.appendingPathComponent("dev-gateway-\(gatewayPort).log"))
            defer { gateway.stop() }

            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let base = "http://127.0.0.1:\(gatewayPort)/alice/api/v2/analyses/"
                try await Self.waitUntilUp(client, url: "http://127.0.0.1:\(gatewayPort)/health")
                let baseline = try gateway.peakResidentBytes()

                var upload = HTTPClientRequest(url: base)
                upload.method = .POST
                upload.headers.add(name: "Authorization", value: "Token alice-token")
                upload.body = .stream(ChunkSequence(totalBytes: Self.bodyBytes), length: .known(Int64(Self.bodyBytes)))
                let uploaded = try await client.execute(upload, timeout: .seconds(300))
                #expect(uploaded.status == .ok)
                let echo = try JSONDecoder().decode(GatewayHarness.Echo.self, from: Data(buffer: try await uploaded.body.collect(upTo: 1 << 20)))
                #expect(echo.bodyBytes == Self.bodyBytes)

                var download = HTTPClientRequest(url: base + "?download=\(Self.bodyBytes)")
                download.headers.add(name: "Authorization", value: "Token alice-token")
                let downloaded = try await client.execute(download, timeout: .seconds(300))
                #expect(downloaded.status == .ok)
                #expect(downloaded.headers.first(name: "content-length") == String(Self.bodyBytes))
                var received = 0
                for try await buffer in downloaded.body { received += buffer.readableBytes }
                #expect(received == Self.bodyBytes)

                let peak = try gateway.peakResidentBytes()
                print("dev-gateway peak RSS: \(peak / 1_048_576) MiB (at start \(baseline / 1_048_576) MiB) for \(Self.bodyBytes / 1_048_576) MiB each way")
                #expect(peak < Self.peakLimit, "the gateway buffered: peak RSS \(peak / 1_048_576) MiB")
            } catch {
                try await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    static func waitUntilUp(_ client: HTTPClient, url: String) async throws {
        for _ in 0..<100 {
            if let response = try? await client.execute(HTTPClientRequest(url: url), timeout: .seconds(1)), response.status == .ok {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("dev-gateway did not start")
        throw CancellationError()
    }
}
