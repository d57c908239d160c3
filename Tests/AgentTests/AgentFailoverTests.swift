import AsyncHTTPClient
import Foundation
import HTTPTypes
import Logging
import SimforgeFailover
import SimforgeModels
import SimforgeTestSupport
import Testing
@testable import JobAgent

/// The agent's calls when jobs and files run as several replicas, on real loopback servers
/// (``StubReplica``) and ports nothing listens on (a replica killed with -9): an agent
/// whose replica died goes on with another, at once.
@Suite struct AgentFailoverTests {
    static let eventsPath = "/internal/jobs/job1/runs/1/events"
    static let heartbeatPath = "/internal/jobs/job1/runs/1/heartbeat"

    static func withAgentClient(jobs: [String], files: [String], _ body: (AgentClient) async throws -> Void) async throws {
        let configuration = try AgentConfiguration(
            arguments: ["simforge-agent", "job1", "1"],
            environment: [
                "SIMFORGE_JOB_TOKEN": "token", "SIMFORGE_JOBS_URL": jobs.joined(separator: ","),
                "SIMFORGE_FILES_URL": files.joined(separator: ","), "SIMFORGE_CATALOG_URL": files.joined(separator: ","),
                "SIMFORGE_WORK_DIR": FileManager.default.temporaryDirectory.path,
            ])
        // The connect timeout is long: a call that waited for it would not pass the (generous)
        // time bounds.
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .simforgeInternal(connect: .seconds(30)))
        do {
            try await body(AgentClient(configuration: configuration, http: http, logger: Logger(label: "agent-test")))
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    @Test func reportsHeartbeatsAndDownloadsPassADeadReplicaAtOnce() async throws {
        let jobs = StubReplica("jobs", body: #"{"stop":true}"#)
        let files = StubReplica("template contents")
        try await StubReplica.serving([jobs, files]) { urls in
            try await Self.withAgentClient(jobs: [try StubReplica.deadURL(), urls[0]], files: [try StubReplica.deadURL(), urls[1]]) { client in
                let started = ContinuousClock.now
                for _ in 0..<2 {
                    try await client.report(RunEvent(type: .started))
                    #expect(await client.heartbeat())
                    #expect(try await client.contents(fileId: "f1", limit: 1024) == Array("template contents".utf8))
                }
                let elapsed = ContinuousClock.now - started
                #expect(elapsed < .seconds(10), "6 calls, half of them starting at a dead replica, took \(elapsed)")
            }
            let reportAndHeartbeat = ["POST \(Self.eventsPath)", "POST \(Self.heartbeatPath)"]
            #expect(jobs.requests == reportAndHeartbeat + reportAndHeartbeat)
            #expect(files.requests.count == 2)
        }
    }

    @Test func aReportRetriedAfterAFailureGoesToTheNextReplica() async throws {
        let failing = StubReplica("failing", status: .serviceUnavailable)
        let healthy = StubReplica("healthy")
        try await StubReplica.serving([failing, healthy]) { urls in
            try await Self.withAgentClient(jobs: urls, files: urls) { client in
                try await client.report(RunEvent(type: .finished, exitCode: 0), patience: .seconds(5))
            }
            #expect(failing.requests == ["POST \(Self.eventsPath)"])
            #expect(healthy.requests == ["POST \(Self.eventsPath)"])
        }
    }

    @Test func everyJobsReplicaDeadEndsTheReportAfterItsPatience() async throws {
        try await Self.withAgentClient(jobs: [try StubReplica.deadURL(), try StubReplica.deadURL()], files: [try StubReplica.deadURL()]) { client in
            let started = ContinuousClock.now
            await #expect(throws: AgentClient.Failure.self) { try await client.report(RunEvent(type: .started), patience: .seconds(1)) }
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }
}
