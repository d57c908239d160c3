import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import JobsService

/// The jobs service as a real process (the built `jobs` executable) that is killed and
/// started again while its jobs run, beside catalog, files and status.
@Suite struct RecoveryTests {
    typealias S = JobsStack

    /// Runs `body` with a function that (re)starts the jobs process and the jobs base URL.
    static func withJobsProcess(
        _ body: @escaping @Sendable (_ start: @Sendable () throws -> ChildProcess, _ jobsURL: String, JobsStack) async throws -> Void
    ) async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("simforge-recovery-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        try await S.run { _, stack in
            let port = try FreePort.next()
            let settings = stack.postgres
            let environment = [
                "PATH": "/usr/bin:/bin", "HTTP_HOST": "127.0.0.1", "HTTP_PORT": "\(port)", "LOG_LEVEL": "warning",
                "POSTGRES_HOST": settings.host, "POSTGRES_PORT": "\(settings.port)", "POSTGRES_USER": settings.username,
                "POSTGRES_PASSWORD": settings.password, "POSTGRES_DB": settings.database, "INTERNAL_TOKEN": S.token,
                "CATALOG_URL": "http://127.0.0.1:\(stack.catalog.port!)", "FILES_URL": "http://127.0.0.1:\(stack.files.port!)",
                "STATUS_URL": "http://127.0.0.1:\(stack.status.port!)",
                "JOBS_BACKEND": "local", "JOBS_LOCAL_CORES": "1", "JOBS_WORK_DIR": work, "JOBS_HEARTBEAT_SECONDS": "1",
                "JOBS_HEARTBEAT_TIMEOUT_SECONDS": "4", "JOBS_RECONCILE_SECONDS": "1",
            ].merging(TestGateway.environment) { $1 }
            let log = URL(fileURLWithPath: work + "-jobs.log")
            defer { try? FileManager.default.removeItem(at: log) }
            let start: @Sendable () throws -> ChildProcess = {
                try ChildProcess(executable: RepositoryPaths.binaries.appendingPathComponent("jobs"), environment: environment, logFile: log)
            }
            try await body(start, "http://127.0.0.1:\(port)", stack)
        }
    }

    static func call(_ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (HTTPResponseStatus, [String: Any]) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "X-Consumer-Custom-ID", value: "alice")
        request.headers.add(name: "X-Gateway-Secret", value: TestGateway.secret)
        request.headers.add(name: "Content-Type", value: "application/json")
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        return (response.status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    static func waitUntilReady(_ jobsURL: String) async throws {
        for _ in 0..<200 {
            if let (status, _) = try? await Self.call(.GET, jobsURL + "/ready"), status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the jobs service did not become ready")
    }

    static func submit(_ jobsURL: String, command: String) async throws -> String {
        let (created, job) = try await Self.call(
            .POST, jobsURL + "/alice/api/v2/jobs/",
            body: S.jobJSON(fileId: nil, coresPerSlot: 1, analysis: "user_included", version: "0", command: command))
        try #require(created == .created)
        let id = try #require(job["id"] as? String)
        #expect(try await Self.call(.POST, jobsURL + "/alice/api/v2/jobs/\(id)/submit/").0 == .ok)
        return id
    }

    static func kill(_ process: ChildProcess) async throws {
        Foundation.kill(process.process.processIdentifier, SIGKILL)
        for _ in 0..<100 where process.process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    }

    /// Agents of this job (by command line).
    static func agents(of jobId: String) -> [Int32] {
        ProcessTable.pids { $0.count == 3 && $0[0].hasSuffix("simforge-agent") && $0[1] == jobId }
    }

    @Test func killingAndRestartingTheJobsServiceMidJobLosesNothingAndRunsNothingTwice() async throws {
        try await Self.withJobsProcess { start, jobsURL, stack in
            var jobs = try start()
            try await Self.waitUntilReady(jobsURL)
            // One slot: the first job runs, the second waits Queued.
            let running = try await Self.submit(jobsURL, command: "sleep 3; echo done > done.txt")
            let queued = try await Self.submit(jobsURL, command: "echo second > second.txt")
            try await ExecutionTests.waitFor("Executing", running, stack)
            try await ExecutionTests.waitFor("Queued", queued, stack)

            try await Self.kill(jobs)
            try await Task.sleep(for: .milliseconds(500))
            jobs = try start()
            defer { jobs.stop() }
            try await Self.waitUntilReady(jobsURL)

            // The running agent kept going and reported; the queued job was dispatched once.
            let chain = ["Completed", "Executing", "Validated", "Started", "Queued", "Pending"]
            for (id, output) in [(running, "done.txt"), (queued, "second.txt")] {
                let history = try await ExecutionTests.waitFor("Completed", id, stack, seconds: 30)
                #expect(history.map(\.status) == chain)
                #expect(history.first?.statusReason == "Completed successfully")
                let outputs = try await ExecutionTests.outputs(id, stack)
                #expect(Set(outputs.keys) == [output, "process_output.log"])
                let (_, runs) = try await Self.call(.GET, jobsURL + "/alice/api/v2/jobs/\(id)/runs/")
                #expect(runs["count"] as? Int == 1)
            }
        }
    }

    /// The only jobs replica is gone for three minutes while a job finishes: its agent
    /// keeps the end (and its heartbeats) until jobs is back, and the job ends with what
    /// really happened, not Lost.
    @Test func aJobThatEndsWhileJobsIsDownForThreeMinutesEndsWithItsRealResult() async throws {
        try await Self.withJobsProcess { start, jobsURL, stack in
            var jobs = try start()
            try await Self.waitUntilReady(jobsURL)
            let id = try await Self.submit(jobsURL, command: "sleep 2; echo real > result.txt; exit 3")
            try await ExecutionTests.waitFor("Executing", id, stack)
            try await Self.kill(jobs)
            try await Task.sleep(for: .seconds(180))
            #expect(Self.agents(of: id).count == 1, "the agent waits for jobs with the end of its run")
            jobs = try start()
            defer { jobs.stop() }
            let history = try await ExecutionTests.waitFor("Completed", id, stack, seconds: 60)
            #expect(history.map(\.status) == ["Completed", "Executing", "Validated", "Started", "Queued", "Pending"])
            #expect(history.first?.statusReason == "Command exited with code 3")
            let outputs = try await ExecutionTests.outputs(id, stack)
            #expect(try await ExecutionTests.contents(outputs["result.txt"], stack) == "real\n")
        }
    }

    @Test func aJobWhoseAgentStopsReportingEndsLost() async throws {
        try await Self.withJobsProcess { start, jobsURL, stack in
            let jobs = try start()
            defer { jobs.stop() }
            try await Self.waitUntilReady(jobsURL)
            let marker = "\(Int.random(in: 100_000...999_999))"
            let id = try await Self.submit(jobsURL, command: "sleep \(marker)")
            try await ExecutionTests.waitFor("Executing", id, stack)
            let agent = try #require(Self.agents(of: id).first)
            // Alive but silent (a hung node): no heartbeats any more.
            Foundation.kill(agent, SIGSTOP)
            defer {
                Foundation.kill(agent, SIGKILL)
                for pid in ExecutionTests.processes(["sleep", marker]) { Foundation.kill(pid, SIGKILL) }
            }
            let history = try await ExecutionTests.waitFor("Completed", id, stack, seconds: 20)
            #expect(history.first?.statusReason == "Lost: the run's agent stopped reporting")
        }
    }
}
