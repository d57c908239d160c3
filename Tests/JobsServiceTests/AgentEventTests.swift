import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import JobsService

/// Driving a job through its lifecycle with the agent's events (internal, job-scoped).
@Suite struct AgentEventTests {
    typealias S = JobsStack

    static func report(_ client: any TestClientProtocol, _ id: String, _ json: String, owner: String = "alice", secret: String = S.token) async throws -> TestResponse {
        try await client.execute(
            uri: "/internal/jobs/\(id)/runs/1/events", method: .post,
            headers: [HTTPField.Name(JobToken.header)!: JobToken(jobId: id, owner: owner).mint(secret: secret), .contentType: "application/json"],
            body: ByteBuffer(string: json))
    }

    static func submitted(_ client: any TestClientProtocol) async throws -> String {
        let created = try await client.execute(uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice, body: ByteBuffer(string: S.jobJSON(fileId: nil)))
        let id = try #require(try S.json(created)["id"] as? String)
        _ = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice)
        return id
    }

    @Test func aJobsFullHistoryArrivesInOrder() async throws {
        try await S.run { client, stack in
            let id = try await Self.submitted(client)
            for event in ["Started", "Validated"] {
                #expect(try await Self.report(client, id, #"{"type":"\#(event)"}"#).status == .ok)
            }
            #expect(try await Self.report(client, id, #"{"type":"Validated"}"#).status == .ok)  // a repeat is harmless
            #expect(try await Self.report(client, id, #"{"type":"Executing","runStarted":"2026-11-29T10:00:00.000001Z"}"#).status == .ok)
            let finished = try await Self.report(client, id, #"{"type":"Finished","exitCode":0,"outputFileCount":3,"outputFileSize":4096}"#)
            #expect(finished.status == .ok)

            #expect(try await stack.statuses(id, reaching: ["Completed", "Executing", "Validated", "Started", "Pending"]) == ["Completed", "Executing", "Validated", "Started", "Pending"])
            let history = try JSONDecoder.simforge().decode(Page<JobStatus>.self, from: Data(buffer:
                try await stack.status.execute(uri: "/alice/api/v2/jobs/\(id)/statuses/", method: .get, headers: S.alice).body))
            #expect(history.results[0].statusReason == "Completed successfully")
            let dates = history.results.map(\.statusDate)
            #expect(zip(dates, dates.dropFirst()).allSatisfy { $0 > $1 }, "strictly increasing dates")

            let run = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/1/", method: .get, headers: S.alice))
            #expect(run["exitCode"] as? Int == 0)
            #expect(run["outputFileCount"] as? Int == 3)
            #expect(run["outputFileSize"] as? Int == 4096)
            #expect(run["dateStarted"] as? String == "2026-11-29T10:00:00.000001Z")
            #expect(run["dateCompleted"] is String)
        }
    }

    @Test func theAgentReadsItsJobWithItsToken() async throws {
        try await S.run { client, _ in
            let id = try await Self.submitted(client)
            let token = JobToken(jobId: id, owner: "alice").mint(secret: S.token)
            let response = try await client.execute(uri: "/internal/jobs/\(id)", method: .get, headers: [HTTPField.Name(JobToken.header)!: token])
            #expect(response.status == .ok)
            let job = try JSONDecoder.simforge().decode(Job.self, from: Data(buffer: response.body))
            #expect(job.jobanalyses.first?.command == "blockMesh && icoFoam")
            #expect(job.jobanalyses.first?.envVars == ["CASE": "cavity"])
            let other = JobToken(jobId: "Other1", owner: "alice").mint(secret: S.token)
            let refused = try await client.execute(uri: "/internal/jobs/\(id)", method: .get, headers: [HTTPField.Name(JobToken.header)!: other])
            #expect(refused.status == .unauthorized)
        }
    }

    @Test func outOfOrderEventsAndForeignTokensAreRefused() async throws {
        try await S.run { client, _ in
            let id = try await Self.submitted(client)
            #expect(try await Self.report(client, id, #"{"type":"Executing"}"#).status == .conflict)
            #expect(try await Self.report(client, id, #"{"type":"Started"}"#, secret: "forged").status == .unauthorized)
            #expect(try await Self.report(client, id, #"{"type":"Started"}"#, owner: "bob").status == .notFound)
            #expect(try await Self.report(client, id, #"{"type":"Exploded"}"#).status == .badRequest)
        }
    }

    @Test func reasonsFollowHowTheJobEnded() async throws {
        try await S.run { client, stack in
            let failed = try await Self.submitted(client)
            _ = try await Self.report(client, failed, #"{"type":"Started"}"#)
            _ = try await Self.report(client, failed, #"{"type":"Validated"}"#)
            _ = try await Self.report(client, failed, #"{"type":"Executing"}"#)
            _ = try await Self.report(client, failed, #"{"type":"Finished","exitCode":3}"#)

            let stopped = try await Self.submitted(client)
            _ = try await Self.report(client, stopped, #"{"type":"Started"}"#)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(stopped)/stop/", method: .post, headers: S.alice).status == .accepted)
            _ = try await Self.report(client, stopped, #"{"type":"Finished"}"#)

            let timedOut = try await Self.submitted(client)
            _ = try await Self.report(client, timedOut, #"{"type":"Started"}"#)
            _ = try await Self.report(client, timedOut, #"{"type":"Finished","exitCode":137,"failure":{"kind":"exceededWalltime"}}"#)

            #expect(try await stack.statuses(timedOut, reaching: ["Completed", "Started", "Pending"]) == ["Completed", "Started", "Pending"])
            let feed = try JSONDecoder.simforge().decode(Page<JobStatus>.self, from: Data(buffer:
                try await stack.status.execute(uri: "/alice/api/v2/jobs/statuses/", method: .get, headers: S.alice).body))
            let reasons = Dictionary(feed.results.filter { $0.status == "Completed" }.map { ($0.jobId!, $0.statusReason) }, uniquingKeysWith: { a, _ in a })
            #expect(reasons[failed] == "Command exited with code 3")
            #expect(reasons[stopped] == "Stopped by user")
            #expect(reasons[timedOut] == "Exceeded walltime")
            #expect(try await stack.statuses(stopped, reaching: ["Completed", "Stopping", "Started", "Pending"]) == ["Completed", "Stopping", "Started", "Pending"])
        }
    }
}
