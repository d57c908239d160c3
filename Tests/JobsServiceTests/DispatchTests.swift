import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import JobsService

/// The dispatcher's contract with a compute backend. The real backends (local processes,
/// Slurm) are tested with their own suites; this backend records what it is asked.
actor RecordingBackend: ComputeBackend {
    struct Refused: Error {}

    private(set) var dispatched: [DispatchRequest] = []
    private(set) var cancelled: [String] = []
    var refuse = false
    var reconciled: [String: BackendRunState] = [:]

    nonisolated var limitsSlots: Bool { false }

    nonisolated func maxCoresPerRun(logger: Logger) async throws -> Int { 64 }

    func dispatch(_ request: DispatchRequest, logger: Logger) async throws -> [String: String] {
        if self.refuse { throw Refused() }
        self.dispatched.append(request)
        return Dictionary(uniqueKeysWithValues: request.runs.map { ($0, "ref-\(request.jobId)-\($0)") })
    }

    func cancel(run: RunAddress, reference: String, logger: Logger) async throws -> CancelOutcome {
        self.cancelled.append(reference)
        return .signalled
    }

    func reconcile(_ runs: [(run: RunAddress, reference: String)], logger: Logger) async throws -> [BackendRunState] {
        runs.map { self.reconciled[$0.reference] ?? .unknown }
    }

    func resign(logger: Logger) async {}

    func refuseAll() { self.refuse = true }
    func answer(_ state: BackendRunState, for reference: String) { self.reconciled[reference] = state }
}

@Suite struct DispatchTests {
    typealias S = JobsStack

    static func submit(_ client: any TestClientProtocol, slots: Int = 2) async throws -> String {
        let created = try await client.execute(
            uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice,
            body: ByteBuffer(string: S.jobJSON(fileId: nil, coresPerSlot: 4, slots: slots, walltime: 3)))
        let id = try #require(try S.json(created)["id"] as? String)
        _ = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice)
        return id
    }

    static func waitFor(_ expected: [String], _ id: String, _ stack: JobsStack) async throws -> [String] {
        var history: [String] = []
        for _ in 0..<100 where history != expected {
            try await Task.sleep(for: .milliseconds(50))
            history = try await stack.statuses(id)
        }
        return history
    }

    @Test func submittedJobsAreHandedToTheBackendAndQueued() async throws {
        let backend = RecordingBackend()
        try await S.run(backend: backend) { client, stack in
            let id = try await Self.submit(client)
            #expect(try await Self.waitFor(["Queued", "Pending"], id, stack) == ["Queued", "Pending"])
            let request = try #require(await backend.dispatched.first)
            #expect(request.jobId == id)
            #expect(request.runs == ["1"] && request.slots == 2 && request.coresPerRun == 4 && request.walltimeSeconds == 3 * 3600)
            #expect(JobToken.verify(request.agentToken, secret: S.token) == JobToken(jobId: id, owner: "alice"))
            #expect(await backend.dispatched.count == 1)
        }
    }

    @Test func stoppingAQueuedJobCancelsItInTheBackend() async throws {
        let backend = RecordingBackend()
        try await S.run(backend: backend) { client, stack in
            let id = try await Self.submit(client)
            _ = try await Self.waitFor(["Queued", "Pending"], id, stack)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/stop/", method: .post, headers: S.alice).status == .accepted)
            // The leading dispatcher tells the backend (woken by the stop's notification).
            let deadline = ContinuousClock.now + .seconds(10)
            while await backend.cancelled.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(await backend.cancelled == ["ref-\(id)-1"])
            // The backend's end report (here sent for it) completes the job.
            let token = JobToken(jobId: id, owner: "alice").mint(secret: S.token)
            _ = try await client.execute(
                uri: "/internal/jobs/\(id)/runs/1/events", method: .post,
                headers: [HTTPField.Name(JobToken.header)!: token, .contentType: "application/json"], body: ByteBuffer(string: #"{"type":"Finished"}"#))
            #expect(try await stack.statuses(id, reaching: ["Completed", "Stopping", "Queued", "Pending"]) == ["Completed", "Stopping", "Queued", "Pending"])
        }
    }

    @Test func aJobTheBackendRefusesEndsCouldNotStart() async throws {
        let backend = RecordingBackend()
        await backend.refuseAll()
        try await S.run(backend: backend) { client, stack in
            let id = try await Self.submit(client)
            #expect(try await Self.waitFor(["Completed", "Queued", "Pending"], id, stack) == ["Completed", "Queued", "Pending"])
            let job = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/?state=completed", method: .get, headers: S.alice))
            let reason = ((job["results"] as? [[String: Any]])?.first?["jobStatus"] as? [String: Any])?["reason"] as? String
            #expect(reason?.hasPrefix("Could not start:") == true)
        }
    }

    @Test func reconciliationSettlesEveryDispatchedJob() async throws {
        let backend = RecordingBackend()
        try await S.run(backend: backend) { client, stack in
            let failed = try await Self.submit(client)
            let forgotten = try await Self.submit(client)
            let lost = try await Self.submit(client)
            let running = try await Self.submit(client)
            for id in [failed, forgotten, lost, running] { _ = try await Self.waitFor(["Queued", "Pending"], id, stack) }
            #expect(try await AgentEventTests.report(client, lost, #"{"type":"Started"}"#).status == .ok)
            await backend.answer(.ended("node failure"), for: "ref-\(failed)-1")
            await backend.answer(.running, for: "ref-\(running)-1")

            // What the dispatcher does when the jobs service starts again.
            try await TestPostgres.withClient(stack.postgres) { postgres async throws in
                let repository = JobPostgresRepository(client: postgres)
                let relay = OutboxRelay(
                    repository: repository,
                    status: try InternalClient(baseURLs: "http://127.0.0.1:\(stack.status.port!)", token: S.token, client: .shared),
                    logger: S.logger("relay"))
                await Dispatcher(
                    repository: repository, lifecycle: JobLifecycle(repository: repository, relay: relay), backend: backend,
                    lease: LeaderLease(client: postgres, key: JobsLocks.dispatcher, logger: S.logger("lease")), doorbell: Doorbell(),
                    tokenSecret: S.token,
                    walltimeLimitSeconds: nil, heartbeatTimeout: .seconds(60), reconcileInterval: .seconds(60), logger: S.logger("dispatcher")
                ).reconcile()
                await relay.deliverPending()
            }
            #expect(try await Self.waitFor(["Completed", "Queued", "Pending"], failed, stack) == ["Completed", "Queued", "Pending"])
            #expect(try await Self.waitFor(["Completed", "Started", "Queued", "Pending"], lost, stack) == ["Completed", "Started", "Queued", "Pending"])
            #expect(try await stack.statuses(running) == ["Queued", "Pending"])
            // A queued job the backend forgot never ran: it is handed over again, not ended.
            #expect(try await stack.statuses(forgotten) == ["Queued", "Pending"])
            // (The live service's own periodic reconciliation may have handed it over again too.)
            #expect(await backend.dispatched.filter { $0.jobId == forgotten }.count >= 2)
            let feed = try JSONDecoder.simforge().decode(Page<JobStatus>.self, from: Data(buffer:
                try await stack.status.execute(uri: "/alice/api/v2/jobs/statuses/", method: .get, headers: S.alice).body))
            let reasons = Dictionary(feed.results.filter { $0.status == "Completed" }.map { ($0.jobId!, $0.statusReason ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(reasons[failed] == "Could not start: node failure")
            #expect(reasons[lost] == "Lost: the compute backend no longer knows the run")
        }
    }
}
