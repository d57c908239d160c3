import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import StatusService

/// The status service over loopback against PostgreSQL: history, feed, idempotent
/// ingestion, and long-polls woken by LISTEN/NOTIFY.
@Suite struct StatusTests {
    static let token = "test-internal-token"
    static let internalHeaders: HTTPFields = [HTTPField.Name("X-Internal-Token")!: token, .contentType: "application/json"]
    static let alice: HTTPFields = TestGateway.headers(for: "alice")
    static let bob: HTTPFields = TestGateway.headers(for: "bob")

    static func run(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            let app = try await buildApplication(
                configuration: StatusConfiguration(
                    http: .init(host: "127.0.0.1", port: 0), postgres: settings, internalToken: Self.token, publicAPI: TestGateway.publicAPI),
                logger: Logger(label: "status-test"), registry: PrometheusCollectorRegistry())
            try await app.test(.live, body)
        }
    }

    static func event(_ job: String, _ status: String, at seconds: Double, owner: String = "alice", id: String? = nil, reason: String? = nil) -> JobStatusEvent {
        JobStatusEvent(
            eventId: id ?? "\(job)-\(status)", jobId: job, owner: owner, status: status,
            statusDate: Date(timeIntervalSince1970: 1_800_000_000 + seconds), statusReason: reason)
    }

    @discardableResult
    static func post(_ client: any TestClientProtocol, _ events: [JobStatusEvent]) async throws -> TestResponse {
        try await client.execute(
            uri: "/internal/statuses", method: .post, headers: Self.internalHeaders,
            body: ByteBuffer(data: try JSONEncoder.simforge().encode(events)))
    }

    static func page(_ response: TestResponse) throws -> Page<JobStatus> {
        try JSONDecoder.simforge().decode(Page<JobStatus>.self, from: Data(buffer: response.body))
    }

    @Test func historyIsNewestFirstAndRedeliveriesAreStoredOnce() async throws {
        try await Self.run { client in
            let events = [
                Self.event("JobA01", "Pending", at: 1), Self.event("JobA01", "Queued", at: 2),
                Self.event("JobA01", "Completed", at: 3, reason: "Completed successfully"),
            ]
            let first = try await Self.post(client, events)
            #expect(String(buffer: first.body) == #"{"stored":3}"#)
            let again = try await Self.post(client, events)
            #expect(String(buffer: again.body) == #"{"stored":0}"#)

            let response = try await client.execute(uri: "/alice/api/v2/jobs/JobA01/statuses/", method: .get, headers: Self.alice)
            #expect(String(buffer: response.body).contains(#""statusReason":null"#))
            let page = try Self.page(response)
            #expect(page.count == 3)
            #expect(page.results.map(\.status) == ["Completed", "Queued", "Pending"])
            #expect(page.results[0].statusReason == "Completed successfully")
            #expect(page.results.allSatisfy { $0.jobId == nil })
            let newest = try Self.page(try await client.execute(uri: "/alice/api/v2/jobs/JobA01/statuses/?page_size=1", method: .get, headers: Self.alice))
            #expect(newest.results.map(\.status) == ["Completed"])
            #expect(newest.next != nil)
        }
    }

    @Test func feedListsEveryJobOfTheCallerWithItsJobId() async throws {
        try await Self.run { client in
            try await Self.post(client, [
                Self.event("JobA01", "Pending", at: 1), Self.event("JobB02", "Pending", at: 2),
                Self.event("JobC03", "Pending", at: 3, owner: "bob"),
            ])
            let feed = try Self.page(try await client.execute(uri: "/alice/api/v2/jobs/statuses/", method: .get, headers: Self.alice))
            #expect(feed.results.map(\.jobId) == ["JobB02", "JobA01"])
            let after = try Self.page(try await client.execute(
                uri: "/alice/api/v2/jobs/statuses/?after=\(ISODate.format(Date(timeIntervalSince1970: 1_800_000_001)))", method: .get, headers: Self.alice))
            #expect(after.results.map(\.jobId) == ["JobB02"])
        }
    }

    @Test func unknownOrAnotherUsersJobIsNotFoundAndAKnownEmptyJobIsNot() async throws {
        try await Self.run { client in
            try await Self.post(client, [Self.event("JobA01", "Pending", at: 1)])
            #expect(try await client.execute(uri: "/bob/api/v2/jobs/JobA01/statuses/", method: .get, headers: Self.bob).status == .notFound)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/NoSuch/statuses/", method: .get, headers: Self.alice).status == .notFound)

            let register = try await client.execute(
                uri: "/internal/jobs/JobNew1", method: .put, headers: Self.internalHeaders,
                body: ByteBuffer(string: #"{"jobId":"JobNew1","owner":"alice"}"#))
            #expect(register.status == .noContent)
            let empty = try Self.page(try await client.execute(uri: "/alice/api/v2/jobs/JobNew1/statuses/", method: .get, headers: Self.alice))
            #expect(empty.count == 0)

            let forget = try await client.execute(uri: "/internal/jobs/JobA01", method: .delete, headers: Self.internalHeaders)
            #expect(forget.status == .noContent)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/JobA01/statuses/", method: .get, headers: Self.alice).status == .notFound)
        }
    }

    @Test func badParametersAndCallersAreRefused() async throws {
        try await Self.run { client in
            try await Self.post(client, [Self.event("JobA01", "Pending", at: 1)])
            let badAfter = try await client.execute(uri: "/alice/api/v2/jobs/JobA01/statuses/?after=yesterday", method: .get, headers: Self.alice)
            #expect(badAfter.status == .badRequest)
            #expect(String(buffer: badAfter.body).contains("after"))
            let badWait = try await client.execute(uri: "/alice/api/v2/jobs/statuses/?wait=61", method: .get, headers: Self.alice)
            #expect(badWait.status == .badRequest)
            let noToken = try await client.execute(uri: "/internal/statuses", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "[]"))
            #expect(noToken.status == .unauthorized)
            let badStatus = try await Self.post(client, [Self.event("JobA01", "Exploded", at: 2)])
            #expect(badStatus.status == .badRequest)
        }
    }

    @Test func aLongPollReturnsWithin100msOfTheEventThatSatisfiesIt() async throws {
        try await Self.run { client in
            try await Self.post(client, [Self.event("JobA01", "Pending", at: 1)])
            let after = ISODate.format(Date(timeIntervalSince1970: 1_800_000_001))
            let clock = ContinuousClock()
            // The long-poll on a connection of its own (the test client has one connection).
            let port = try #require(client.port)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/alice/api/v2/jobs/JobA01/statuses/?after=\(after)&wait=10")
            request.headers.add(name: "X-Consumer-Custom-ID", value: "alice")
        request.headers.add(name: "X-Gateway-Secret", value: TestGateway.secret)
            let waiting = Task {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
                return (response, clock.now)
            }
            try await Task.sleep(for: .milliseconds(500))
            // Another user's and another job's events do not end the wait early with nothing.
            try await Self.post(client, [Self.event("JobZ09", "Pending", at: 5, owner: "bob")])
            try await Task.sleep(for: .milliseconds(200))
            try await Self.post(client, [Self.event("JobA01", "Queued", at: 2)])
            // The event exists once the POST that stored it has returned.
            let stored = clock.now
            let (response, returned) = try await waiting.value
            let latency = returned - stored
            let body = try await response.body.collect(upTo: 1 << 20)
            let page = try JSONDecoder.simforge().decode(Page<JobStatus>.self, from: Data(buffer: body))
            #expect(page.results.map(\.status) == ["Queued"])
            #expect(latency < .milliseconds(100), "returned \(latency) after the event")
        }
    }

    @Test func aNotificationNamesTheJobAndItsOwner() {
        let payload = StatusChannel.payload(jobId: "JobA01", owner: "alice smith")
        #expect(StatusChannel.parse(payload)?.jobId == "JobA01")
        #expect(StatusChannel.parse(payload)?.owner == "alice smith")
        #expect(StatusChannel.parse("alice") == nil)
    }

    @Test func aWaitThatRunsOutReturnsAnEmptyPage() async throws {
        try await Self.run { client in
            try await Self.post(client, [Self.event("JobA01", "Pending", at: 1)])
            let after = ISODate.format(Date(timeIntervalSince1970: 1_800_000_001))
            let clock = ContinuousClock()
            let started = clock.now
            let response = try await client.execute(uri: "/alice/api/v2/jobs/JobA01/statuses/?after=\(after)&wait=1", method: .get, headers: Self.alice)
            let elapsed = clock.now - started
            let page = try Self.page(response)
            #expect(response.status == .ok)
            #expect(page.count == 0 && page.results.isEmpty)
            #expect(elapsed >= .milliseconds(950) && elapsed < .seconds(5))
        }
    }

    /// Two status services on one database: a replica keeping histories in its read cache,
    /// and one reading every page from PostgreSQL.
    static func runCachedAndPlain(
        _ body: @escaping @Sendable (_ cached: any TestClientProtocol, _ plain: any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            func app(cacheEntries: Int) async throws -> some ApplicationProtocol {
                try await buildApplication(
                    configuration: StatusConfiguration(
                        http: .init(host: "127.0.0.1", port: 0), postgres: settings, internalToken: Self.token, publicAPI: TestGateway.publicAPI,
                        readCacheEntries: cacheEntries),
                    logger: Logger(label: "status-test"), registry: PrometheusCollectorRegistry())
            }
            let cached = try await app(cacheEntries: 100)
            let plain = try await app(cacheEntries: 0)
            try await cached.test(.live) { cachedClient in
                try await plain.test(.live) { plainClient in
                    try await body(cachedClient, plainClient)
                }
            }
        }
    }

    /// Every page of a history, as alice and as bob, with `after` on exact stored dates:
    /// status and bytes from each service (links made for the same forwarded host).
    static func answers(_ client: any TestClientProtocol, job: String, afterDates: [String]) async throws -> [String] {
        var queries = ["", "?page_size=2", "?page_size=2&page=2", "?page_size=2&page=3", "?page=5"]
        for date in afterDates {
            queries += ["?after=\(date)", "?after=\(date)&page_size=1&page=2"]
        }
        var answers: [String] = []
        for user in ["alice", "bob"] {
            let headers: HTTPFields = [
                HTTPField.Name("X-Consumer-Custom-ID")!: user, ConsumerAuthMiddleware.gatewaySecretHeader: TestGateway.secret, HTTPField.Name("X-Forwarded-Host")!: "api.example.com",
                HTTPField.Name("X-Forwarded-Proto")!: "https",
            ]
            for query in queries {
                let response = try await client.execute(uri: "/\(user)/api/v2/jobs/\(job)/statuses/\(query)", method: .get, headers: headers)
                answers.append("\(user) \(query): \(response.status.code) \(String(buffer: response.body))")
            }
        }
        // The same request through another address: its own links.
        let elsewhere = try await client.execute(uri: "/alice/api/v2/jobs/\(job)/statuses/?page_size=1", method: .get, headers: [
            HTTPField.Name("X-Consumer-Custom-ID")!: "alice", ConsumerAuthMiddleware.gatewaySecretHeader: TestGateway.secret, HTTPField.Name("X-Forwarded-Host")!: "other.example.com",
        ])
        answers.append("elsewhere: \(elsewhere.status.code) \(String(buffer: elsewhere.body))")
        return answers
    }

    @Test func aCachedHistoryAnswersWhatTheDatabaseAnswersAndFollowsEveryWrite() async throws {
        try await Self.runCachedAndPlain { cached, plain in
            try await Self.post(cached, [
                Self.event("JobA01", "Pending", at: 1), Self.event("JobA01", "Queued", at: 2.000001),
                Self.event("JobA01", "Started", at: 3.5), Self.event("JobA01", "Executing", at: 3.500001),
                Self.event("JobB02", "Pending", at: 1, owner: "bob"),
            ])
            func dates() async throws -> [String] {
                let page = try JSONSerialization.jsonObject(with: Data(buffer: try await plain.execute(
                    uri: "/alice/api/v2/jobs/JobA01/statuses/", method: .get, headers: Self.alice).body)) as? [String: Any]
                return (page?["results"] as? [[String: Any]] ?? []).compactMap { $0["statusDate"] as? String }
            }
            func expectSameAnswers(_ comment: Comment) async throws {
                let expected = try await Self.answers(plain, job: "JobA01", afterDates: try await dates())
                #expect(try await Self.answers(cached, job: "JobA01", afterDates: try await dates()) == expected, comment)
            }
            try await expectSameAnswers("first reads")
            try await expectSameAnswers("from the cache")

            // A write through the caching replica shows in its next read.
            try await Self.post(cached, [Self.event("JobA01", "Completed", at: 4, reason: "Completed \"fine\"")])
            try await expectSameAnswers("after a write through the caching replica")

            // A write through the other replica reaches the cache through its notification.
            try await Self.post(plain, [Self.event("JobA01", "Stopping", at: 5)])
            // Notifications cross replicas within milliseconds; the bounds allow a loaded machine.
            let clock = ContinuousClock()
            var deadline = clock.now + .seconds(10)
            var seen: [String] = []
            while clock.now < deadline {
                seen = try Self.page(try await cached.execute(uri: "/alice/api/v2/jobs/JobA01/statuses/", method: .get, headers: Self.alice))
                    .results.map(\.status)
                if seen.first == "Stopping" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(seen == ["Stopping", "Completed", "Executing", "Started", "Queued", "Pending"])
            try await expectSameAnswers("after a write through the other replica")

            // Forgotten (deleted) through the other replica: gone from the cache as well.
            let forget = try await plain.execute(uri: "/internal/jobs/JobA01", method: .delete, headers: Self.internalHeaders)
            #expect(forget.status == .noContent)
            var status = HTTPResponse.Status.ok
            deadline = clock.now + .seconds(10)
            while clock.now < deadline, status != .notFound {
                status = try await cached.execute(uri: "/alice/api/v2/jobs/JobA01/statuses/", method: .get, headers: Self.alice).status
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(status == .notFound)
        }
    }
}
