import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Synchronization
import Testing
@testable import JobsService

/// Jobs over loopback with the real catalog, files and status services.
@Suite struct JobsTests {
    typealias S = JobsStack

    static func create(_ client: any TestClientProtocol, _ json: String, as user: HTTPFields = S.alice) async throws -> TestResponse {
        try await client.execute(uri: "/\(user[HTTPField.Name("X-Consumer-Custom-ID")!]!)/api/v2/jobs/", method: .post, headers: user, body: ByteBuffer(string: json))
    }

    @Test func creatingAJobEchoesItWithDefaultsCoreSummaryAndFiles() async throws {
        try await S.run { client, stack in
            let fileId = try await stack.upload()
            let response = try await Self.create(client, S.jobJSON(fileId: fileId))
            #expect(response.status == .created)
            let job = try S.json(response)
            #expect((job["id"] as? String)?.count == 6)
            #expect(job["owner"] as? String == "alice")
            #expect(job["name"] as? String == "cavity")
            let analysis = try #require((job["jobanalyses"] as? [[String: Any]])?.first)
            let hardware = try #require(analysis["hardware"] as? [String: Any])
            #expect(hardware["walltime"] as? Int == 48)
            let summary = try #require(hardware["coreSummary"] as? [String: Any])
            #expect(summary["memoryPerNode"] as? Int == 8000)
            #expect(summary["storagePerNode"] as? Int == 64)
            #expect(summary["numberOfNodes"] as? Int == 1)
            #expect(analysis["useMpi"] as? Bool == false)
            #expect(analysis["envVars"] as? [String: String] == ["CASE": "cavity"])
            let input = try #require((analysis["inputFiles"] as? [[String: Any]])?.first)
            #expect(input["id"] as? String == fileId)
            #expect(input["decompress"] as? Bool == true)
            #expect(input["name"] as? String == "cavity.zip")
            #expect((input["md5"] as? String)?.count == 32)
            #expect((input["downloadUrl"] as? String)?.hasSuffix("/alice/api/v2/files/\(fileId)/contents/") == true)

            let read = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(job["id"]!)/", method: .get, headers: S.alice))
            #expect(read["name"] as? String == "cavity")
            let list = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/", method: .get, headers: S.alice))
            let summaryRow = try #require((list["results"] as? [[String: Any]])?.first)
            #expect(summaryRow["analysisNames"] as? [String] == ["OpenFOAM"])
            // Not submitted: an empty status, as in the docs.
            #expect((summaryRow["jobStatus"] as? [String: Any])?["content"] as? String == "")
        }
    }

    @Test func readingAJobGivesTheBytesItsCreationAnswered() async throws {
        try await S.run { client, stack in
            var headers = S.alice
            headers[HTTPField.Name("X-Forwarded-Proto")!] = "https"
            headers[HTTPField.Name("X-Forwarded-Host")!] = "api.example.com"
            let created = try await client.execute(
                uri: "/alice/api/v2/jobs/", method: .post, headers: headers,
                body: ByteBuffer(string: S.jobJSON(name: #"cavity "quoted" \ back/slash é 漢字 🚀"#, fileId: try await stack.upload())))
            #expect(created.status == .created)
            let id = try #require(try S.json(created)["id"] as? String)
            let read = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .get, headers: headers)
            #expect(String(buffer: read.body) == String(buffer: created.body))
            #expect(String(buffer: read.body).contains("https://api.example.com/alice/api/v2/files/"))
        }
    }

    @Test func everyValidationRuleAnswersWithItsFieldError() async throws {
        try await S.run { client, stack in
            let bobsFile = try await stack.upload(as: "bob")
            let cases: [(String, String)] = [
                (S.jobJSON(name: " ", fileId: nil), #""name":["This field may not be blank."]"#),
                (#"{"name":"x","jobanalyses":[]}"#, #""jobanalyses":["A job needs at least one analysis."]"#),
                (S.jobJSON(fileId: nil, version: "v9"), #""version":["Unknown version 'v9' of analysis 'openfoam'."]"#),
                (S.jobJSON(fileId: nil, analysis: "nope"), "Unknown version"),
                (S.jobJSON(fileId: nil, analysis: "nope", version: nil), #""code":["Unknown analysis 'nope'."]"#),
                (S.jobJSON(fileId: nil, coreType: "x"), #"{"jobanalyses":[{"hardware":{"coreType":["unknown core type 'x'"]}}]}"#),
                (S.jobJSON(fileId: nil, coreType: "hpc", analysis: "python", version: "3.11", command: "python3 main.py"), "is not allowed for this analysis version"),
                (S.jobJSON(fileId: nil, coresPerSlot: 3), #""coresPerSlot":["Core type 'standard' has nodes of"#),
                (S.jobJSON(fileId: nil, coresPerSlot: 0), #""coresPerSlot":["Ensure this value is greater than or equal to 1."]"#),
                (S.jobJSON(fileId: nil, slots: 0), #""slots":["Ensure this value is greater than or equal to 1."]"#),
                (S.jobJSON(fileId: nil, walltime: 0), #""walltime":["Ensure this value is greater than or equal to 1."]"#),
                (S.jobJSON(fileId: "Zz9Zz9"), #""inputFiles":[{"id":["File 'Zz9Zz9' not found."]}]"#),
                (S.jobJSON(fileId: bobsFile), #""inputFiles":[{"id":["File '\#(bobsFile)' not found."]}]"#),
                (S.jobJSON(fileId: nil, command: "  "), #""command":["This field may not be blank."]"#),
                ("{not json", #"{"detail":"JSON parse error - the body is not valid JSON."}"#),
                (#"{"name":"x"}"#, #"{"jobanalyses":["This field is required."]}"#),
            ]
            for (body, expected) in cases {
                let response = try await Self.create(client, body)
                #expect(response.status == .badRequest, "\(expected)")
                #expect(String(buffer: response.body).contains(expected), "\(String(buffer: response.body)) lacks \(expected)")
            }
            let list = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/", method: .get, headers: S.alice))
            #expect(list["count"] as? Int == 0)
        }
    }

    @Test func submitIsIdempotentAndPendingIsVisibleAtOnce() async throws {
        try await S.run { client, stack in
            let job = try S.json(try await Self.create(client, S.jobJSON(fileId: try await stack.upload())))
            let id = try #require(job["id"] as? String)
            #expect(try await stack.statuses(id) == [])
            let submitted = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice)
            #expect(submitted.status == .ok)
            #expect(try await stack.statuses(id) == ["Pending"])
            let again = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice)
            #expect(again.status == .ok)
            #expect(try await stack.statuses(id) == ["Pending"])
            let runs = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/", method: .get, headers: S.alice))
            #expect(runs["count"] as? Int == 1)
            let run = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/1/", method: .get, headers: S.alice))
            #expect(run["id"] as? String == "1")
            #expect(run.keys.contains("exitCode"))
        }
    }

    /// `GET jobs/{id}/` answers from the jobs service's read cache: it must follow PATCH and
    /// DELETE at once, keep owners apart, and make links for each caller's address.
    @Test func readsFollowPatchAndDeleteAndEachCallersAddress() async throws {
        try await S.run { client, stack in
            let id = try #require(try S.json(try await Self.create(client, S.jobJSON(fileId: try await stack.upload())))["id"] as? String)
            func read(host: String = "api.example.com", as user: String = "alice") async throws -> TestResponse {
                try await client.execute(uri: "/\(user)/api/v2/jobs/\(id)/", method: .get, headers: [
                    HTTPField.Name("X-Consumer-Custom-ID")!: user, ConsumerAuthMiddleware.gatewaySecretHeader: TestGateway.secret, HTTPField.Name("X-Forwarded-Host")!: host,
                    HTTPField.Name("X-Forwarded-Proto")!: "https",
                ])
            }
            #expect(try S.json(try await read())["name"] as? String == "cavity")
            #expect(try await read(as: "bob").status == .notFound)
            #expect(String(buffer: try await read(host: "other.example.com").body).contains("https://other.example.com/alice/api/v2/files/"))
            #expect(String(buffer: try await read().body).contains("https://api.example.com/alice/api/v2/files/"))

            let renamed = try await client.execute(
                uri: "/alice/api/v2/jobs/\(id)/", method: .patch, headers: S.alice, body: ByteBuffer(string: S.jobJSON(name: "renamed", fileId: nil)))
            #expect(renamed.status == .ok)
            let afterPatch = try await read()
            #expect(try S.json(afterPatch)["name"] as? String == "renamed")
            #expect(!String(buffer: afterPatch.body).contains("/files/"))

            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .delete, headers: S.alice).status == .noContent)
            #expect(try await read().status == .notFound)
        }
    }

    /// Another jobs replica (its repository and listener, here) keeps a spec only once the
    /// job is submitted, and drops it when the job is deleted through this one.
    @Test func anotherReplicasCacheKeepsSubmittedSpecsUntilTheyAreDeleted() async throws {
        try await S.run { client, stack in
            let id = try #require(try S.json(try await Self.create(client, S.jobJSON(fileId: nil)))["id"] as? String)
            try await TestPostgres.withClient(stack.postgres) { postgres async throws in
                let replica = JobPostgresRepository(client: postgres)
                let started = Mutex(false)
                let listener = Task {
                    try await NotificationListener(
                        client: postgres, channel: JobSpecChannel.name, logger: S.logger("listener"),
                        listening: {
                            replica.invalidateCachedSpecs()
                            started.withLock { $0 = true }
                        },
                        received: { id in replica.invalidateCachedSpecs(id: id) }
                    ).run()
                }
                while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
                let logger = S.logger("replica")

                #expect(try await replica.storedSpec(id: id, owner: "alice", logger: logger) != nil)
                #expect(replica.specs.count == 0)
                #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice).status == .ok)
                #expect(try await replica.storedSpec(id: id, owner: "alice", logger: logger) != nil)
                #expect(replica.specs.count == 1)
                #expect(try await replica.storedSpec(id: id, owner: "bob", logger: logger) == nil)

                #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/stop/", method: .post, headers: S.alice).status == .accepted)
                #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .delete, headers: S.alice).status == .noContent)
                let clock = ContinuousClock()
                let deadline = clock.now + .seconds(2)
                while replica.specs.count > 0, clock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(replica.specs.count == 0)
                #expect(try await replica.storedSpec(id: id, owner: "alice", logger: logger) == nil)
                listener.cancel()
                _ = try? await listener.value
            }
        }
    }

    @Test func patchDeleteAndStopFollowTheLifecycle() async throws {
        try await S.run { client, stack in
            let id = try #require(try S.json(try await Self.create(client, S.jobJSON(fileId: nil)))["id"] as? String)
            let renamed = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .patch, headers: S.alice, body: ByteBuffer(string: S.jobJSON(name: "renamed", fileId: nil)))
            #expect(renamed.status == .ok)
            #expect(try S.json(renamed)["name"] as? String == "renamed")
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/stop/", method: .post, headers: S.alice).status == .conflict)

            _ = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice)
            let late = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .patch, headers: S.alice, body: ByteBuffer(string: S.jobJSON(name: "late", fileId: nil)))
            #expect(late.status == .conflict)
            // What it runs is settled: even values that could never be valid are a 409, not a 400.
            let absurd = #"{"jobanalyses": [{"hardware": {"coresPerSlot": 28344227352002788480516096}}], "\u0001": [[]]}"#
            let settled = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .patch, headers: S.alice, body: ByteBuffer(string: absurd))
            #expect(settled.status == .conflict)
            // Its name may still change.
            let named = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .patch, headers: S.alice, body: ByteBuffer(string: #"{"name": "still mine"}"#))
            #expect(named.status == .ok)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .delete, headers: S.alice).status == .conflict)

            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/stop/", method: .post, headers: S.alice).status == .accepted)
            #expect(try await stack.statuses(id, reaching: ["Completed", "Stopping", "Pending"]) == ["Completed", "Stopping", "Pending"])
            let stopped = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/?state=completed", method: .get, headers: S.alice))
            #expect(((stopped["results"] as? [[String: Any]])?.first?["jobStatus"] as? [String: Any])?["reason"] as? String == "Stopped by user")
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/stop/", method: .post, headers: S.alice).status == .conflict)

            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .delete, headers: S.alice).status == .noContent)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .get, headers: S.alice).status == .notFound)
            // The outbox tells status soon after the delete answered.
            let deadline = ContinuousClock.now + .seconds(5)
            var history = HTTPResponse.Status.ok
            while history != .notFound, ContinuousClock.now < deadline {
                history = try await stack.status.execute(uri: "/alice/api/v2/jobs/\(id)/statuses/", method: .get, headers: S.alice).status
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(history == .notFound)
        }
    }

    @Test func anotherUserGetsNotFoundEverywhere() async throws {
        try await S.run { client, _ in
            let id = try #require(try S.json(try await Self.create(client, S.jobJSON(fileId: nil)))["id"] as? String)
            let routes: [(HTTPRequest.Method, String)] = [
                (.get, ""), (.patch, ""), (.delete, ""), (.post, "submit/"), (.post, "stop/"), (.get, "runs/"), (.get, "runs/1/"),
            ]
            for (method, suffix) in routes {
                let response = try await client.execute(
                    uri: "/bob/api/v2/jobs/\(id)/\(suffix)", method: method, headers: S.bob,
                    body: method == .patch ? ByteBuffer(string: S.jobJSON(fileId: nil)) : nil)
                #expect(response.status == .notFound, "\(method) \(suffix)")
            }
            let list = try S.json(try await client.execute(uri: "/bob/api/v2/jobs/", method: .get, headers: S.bob))
            #expect(list["count"] as? Int == 0)
        }
    }

    @Test func unreachableCatalogIs503AndCreatesNothing() async throws {
        try await S.run(catalogURL: "http://127.0.0.1:9") { client, _ in
            let response = try await Self.create(client, S.jobJSON(fileId: nil))
            #expect(response.status == .serviceUnavailable)
            #expect(!String(buffer: response.body).contains("127.0.0.1"))
            let list = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/", method: .get, headers: S.alice))
            #expect(list["count"] as? Int == 0)
        }
    }

    @Test func theOutboxSurvivesTheStatusServiceBeingDown() async throws {
        let port = try FreePort.next()
        try await S.run(statusURL: "http://127.0.0.1:\(port)") { client, stack in
            let id = try #require(try S.json(try await Self.create(client, S.jobJSON(fileId: nil)))["id"] as? String)
            // Status is down: submit and stop still answer, the history waits in the outbox.
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice).status == .ok)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/stop/", method: .post, headers: S.alice).status == .accepted)
            #expect(try await stack.statuses(id) == [])
            try await Task.sleep(for: .seconds(2))

            try await stack.withStatusService(port: port) {
                // The relay retries with backoff; give it time, reading the same history.
                var history: [String] = []
                for _ in 0..<300 where history.count < 3 {
                    try await Task.sleep(for: .milliseconds(100))
                    history = try await stack.statuses(id)
                }
                // Everything, in order, once.
                #expect(history == ["Completed", "Stopping", "Pending"])
            }
        }
    }
}
