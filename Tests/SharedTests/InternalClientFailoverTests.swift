import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SimforgeFailover
import SimforgeServer
import SimforgeTestSupport
import Testing

/// ``InternalClient`` over a service's replicas, on real loopback servers (``StubReplica``)
/// and ports nothing listens on (a killed replica): calls start at each replica in turn,
/// skip those that refuse the connection at once, and never send twice what a replica may
/// have done.
@Suite struct InternalClientFailoverTests {
    static let logger = Logger(label: "internal-client-test")
    /// Long, so that a call that waited for it could not pass the tests' time bounds (which
    /// are generous: the suites run in parallel on a loaded machine).
    static let connectTimeout = Duration.seconds(30)

    static func withClient(
        _ baseURLs: [String], timeout: Duration = .seconds(10), _ body: (InternalClient) async throws -> Void
    ) async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .simforgeInternal(connect: Self.connectTimeout))
        do {
            try await body(try InternalClient(baseURLs: baseURLs.joined(separator: ","), token: "token", client: http, timeout: timeout))
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// Which replica answered a GET.
    static func answerer(_ client: InternalClient, _ path: String = "/internal/thing") async throws -> String? {
        try await client.data(path, limit: 1024, logger: Self.logger).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test(arguments: ["127.0.0.1", "localhost"])
    func aDeadReplicaIsSkippedWithoutWaitingForTheConnectTimeout(deadHost: String) async throws {
        let live = StubReplica("live")
        try await StubReplica.serving([live]) { urls in
            try await Self.withClient([try StubReplica.deadURL(host: deadHost), urls[0]]) { client async throws in
                let started = ContinuousClock.now
                for _ in 0..<4 {
                    #expect(try await Self.answerer(client) == "live")
                    #expect(try await client.send("/internal/statuses", method: .POST, json: ["n": 1], logger: Self.logger) == .ok)
                }
                let elapsed = ContinuousClock.now - started
                #expect(elapsed < .seconds(10), "8 calls, half of them starting at the dead replica, took \(elapsed)")
            }
            #expect(live.requests.count == 8)
        }
    }

    @Test func callsStartAtEachReplicaInTurn() async throws {
        let first = StubReplica("first")
        let second = StubReplica("second")
        try await StubReplica.serving([first, second]) { urls in
            try await Self.withClient(urls) { client in
                var answerers: [String?] = []
                for _ in 0..<6 { answerers.append(try await Self.answerer(client)) }
                #expect(answerers == ["first", "second", "first", "second", "first", "second"])
            }
            #expect(first.requests.count == 3)
            #expect(second.requests.count == 3)
        }
    }

    @Test func noReachableReplicaIsServiceUnavailable() async throws {
        try await Self.withClient([try StubReplica.deadURL(), try StubReplica.deadURL(host: "localhost")]) { client in
            let started = ContinuousClock.now
            await #expect(throws: APIError.serviceUnavailable) { try await Self.answerer(client) }
            await #expect(throws: APIError.serviceUnavailable) {
                try await client.send("/internal/statuses", method: .POST, json: ["n": 1], logger: Self.logger)
            }
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test func aPostThatReachedAReplicaIsNotSentToAnother() async throws {
        let slow = StubReplica("slow", delay: .seconds(5))
        let next = StubReplica("next")
        try await StubReplica.serving([slow, next]) { urls in
            try await Self.withClient(urls, timeout: .seconds(2)) { client in
                await #expect(throws: APIError.serviceUnavailable) {
                    try await client.send("/internal/statuses", method: .POST, json: ["n": 1], logger: Self.logger)
                }
            }
            #expect(slow.requests == ["POST /internal/statuses"])
            #expect(next.requests.isEmpty)
        }
    }

    @Test func aGetThatFailedAfterReachingAReplicaIsSentToTheNext() async throws {
        let slow = StubReplica("slow", delay: .seconds(5))
        let next = StubReplica("next")
        try await StubReplica.serving([slow, next]) { urls in
            try await Self.withClient(urls, timeout: .seconds(2)) { client async throws in
                #expect(try await Self.answerer(client, "/internal/jobs/1") == "next")
            }
            #expect(slow.requests == ["GET /internal/jobs/1"])
            #expect(next.requests == ["GET /internal/jobs/1"])
        }
    }

    @Test func anErrorAnswerIsNotSentToAnotherReplica() async throws {
        let failing = StubReplica("failing", status: .internalServerError)
        let next = StubReplica("next")
        try await StubReplica.serving([failing, next]) { urls in
            try await Self.withClient(urls) { client in
                await #expect(throws: APIError.serviceUnavailable) { try await Self.answerer(client) }
            }
            #expect(failing.requests.count == 1)
            #expect(next.requests.isEmpty)
        }
    }

    @Test func onlyConnectionFailuresProveARequestWasNeverSent() {
        #expect(ConnectionFailure.neverSent(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(ConnectionFailure.neverSent(HTTPClientError.connectTimeout))
        #expect(ConnectionFailure.neverSent(ChannelError.connectTimeout(.seconds(1))))
        #expect(ConnectionFailure.neverSent(HTTPClientError.getConnectionFromPoolTimeout))
        #expect(!ConnectionFailure.neverSent(IOError(errnoCode: ECONNRESET, reason: "read")))
        #expect(!ConnectionFailure.neverSent(HTTPClientError.remoteConnectionClosed))
        #expect(!ConnectionFailure.neverSent(HTTPClientError.deadlineExceeded))
        #expect(!ConnectionFailure.neverSent(HTTPClientError.readTimeout))
        #expect(!ConnectionFailure.neverSent(CancellationError()))
    }

    @Test func aListOfReplicasIsNormalizedAndChecked() throws {
        #expect(try ServiceReplicas(" http://a:1/ ,https://b").baseURLs == ["http://a:1", "https://b"])
        #expect(try ServiceReplicas("http://jobs:8083").description == "http://jobs:8083")
        for invalid in ["", "http://a,", "http://a,,http://b", "jobs:8083", "ftp://a", "http://"] {
            #expect(throws: ServiceReplicas.InvalidList.self, "'\(invalid)'") { try ServiceReplicas(invalid) }
        }
    }
}
