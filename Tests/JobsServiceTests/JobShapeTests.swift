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

/// Simforge's answers against the seed's and the Rescale docs' samples
/// (Tests/Fixtures/rescale): every key of a sample is there, with the sample's JSON type
/// (or null where the sample has null). Python clients index these keys.
@Suite struct JobShapeTests {
    typealias S = JobsStack
    typealias E = ExecutionTests

    static func expectShape(_ response: TestResponse, _ samples: String..., sourceLocation: SourceLocation = #_sourceLocation) throws {
        for sample in samples {
            let mismatches = try JSONShape.mismatches(ofJSON: response.body, against: sample)
            #expect(mismatches.isEmpty, "\(sample): \(mismatches)", sourceLocation: sourceLocation)
        }
    }

    static func post(_ client: any TestClientProtocol, _ job: [String: Any]) async throws -> TestResponse {
        try await client.execute(
            uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice,
            body: ByteBuffer(string: String(decoding: try JSONSerialization.data(withJSONObject: job), as: UTF8.self)))
    }

    @Test func aBasicJobAnswersInTheSeedsShapesThroughoutItsLife() async throws {
        try await E.run(.local) { client, stack, _ in
            // The seed's own request, with our file and analysis.
            let fileId = try await stack.upload(try TestZip.make([.file("airFoil2D/Allrun", "#!/bin/sh\necho ran && echo converged > log.simpleFoam\n", permissions: 0o755)]),
                                                name: "airfoil2d.zip")
            var request = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: RepositoryPaths.fixture(
                "rescale/requests/seed-job-create-request.json")))) as! [String: Any]
            var analysis = (request["jobanalyses"] as! [[String: Any]])[0]
            analysis["analysis"] = ["code": "openfoam", "version": "v1912"]
            analysis["hardware"] = ["coresPerSlot": 1, "slots": 1, "coreType": "standard"]
            analysis["inputFiles"] = [["id": fileId]]
            request["jobanalyses"] = [analysis]
            let created = try await Self.post(client, request)
            #expect(created.status == .created)
            try Self.expectShape(created, "seed-job-created.json", "job-created.json")
            let id = try #require(try S.json(created)["id"] as? String)
            try Self.expectShape(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/", method: .get, headers: S.alice),
                                 "seed-job-created.json", "job-created.json")
            let unsubmitted = try await client.execute(uri: "/alice/api/v2/jobs/", method: .get, headers: S.alice)
            try Self.expectShape(unsubmitted, "job-list.json")
            guard case .array(let summaries)? = try JSONValue(parsing: String(buffer: unsubmitted.body))["results"] else {
                Issue.record("no results")
                return
            }
            let summaryMismatches = JSONShape.mismatches(of: try #require(summaries.first), against: try JSONShape.sample("job-summary-empty-status.json"))
            #expect(summaryMismatches.isEmpty, "\(summaryMismatches)")

            let patched = try await client.execute(
                uri: "/alice/api/v2/jobs/\(id)/", method: .patch, headers: S.alice,
                body: ByteBuffer(data: try Data(contentsOf: URL(fileURLWithPath: RepositoryPaths.fixture("rescale/requests/job-patch-request.json")))))
            try Self.expectShape(patched, "job-patch-response.json")
            #expect(try S.json(patched)["name"] as? String == "Jobster")

            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice).status == .ok)
            #expect(try await E.waitFor("Completed", id, stack).first?.statusReason == "Completed successfully")
            try Self.expectShape(try await stack.status.execute(uri: "/alice/api/v2/jobs/\(id)/statuses/", method: .get, headers: S.alice),
                                 "seed-job-statuses.json", "job-statuses.json")
            try Self.expectShape(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/", method: .get, headers: S.alice),
                                 "seed-run-list.json")
            try Self.expectShape(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/1/", method: .get, headers: S.alice),
                                 "run.json")
            let run = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/1/", method: .get, headers: S.alice))
            #expect(run["displayOrder"] as? Int == 1)
            try Self.expectShape(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/cluster_statuses/", method: .get, headers: S.alice),
                                 "cluster-statuses.json")
            let clusters = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/cluster_statuses/", method: .get, headers: S.alice))
            #expect((clusters["results"] as? [[String: Any]])?.map { $0["status"] as? String } == ["Stopped", "Started", "Not Started"])

            let list = try await client.execute(uri: "/alice/api/v2/jobs/", method: .get, headers: S.alice)
            try Self.expectShape(list, "job-list.json")
            let summary = try #require((try S.json(list)["results"] as? [[String: Any]])?.first)
            #expect((summary["jobStatus"] as? [String: Any])?["content"] as? String == "Completed")
            #expect((summary["clusterStatusDisplay"] as? [String: Any])?["content"] as? String == "Stopped")
            #expect((summary["storage"] as? Int ?? 0) > 0, "the bytes of its outputs")
            try Self.expectShape(try await stack.files.execute(uri: "/alice/api/v2/jobs/\(id)/files/", method: .get, headers: S.alice),
                                 "job-files-list.json")
            // One per page, so that `next` is a link as in the sample.
            try Self.expectShape(try await stack.files.execute(uri: "/alice/api/v2/jobs/\(id)/runs/1/files/?page_size=1", method: .get, headers: S.alice),
                                 "run-files-list.json")
        }
    }

    /// A DOE job like the docs' sample: a parameter file, a template, its runs' variables.
    @Test func aDOEJobAnswersInTheDocsShapes() async throws {
        try await E.run(.local) { client, stack, _ in
            let csv = try await stack.upload("Xvelocity,Yvelocity\n20,3\n20,3.5\n", name: "freestreamvalue.csv")
            let template = try await stack.upload("U ${Xvelocity} ${Yvelocity}\n", name: "utemplate")
            let input = try await stack.upload(try TestTar.make([.file("airFoil2D_DOE/0/U", "old")], gzipped: true), name: "airfoil2d_doe.tar.gz")
            let created = try await Self.post(client, [
                "name": "Untitled Job", "paramFile": ["id": csv],
                "jobanalyses": [[
                    "analysis": ["code": "openfoam"], "command": "cat airFoil2D_DOE/0/U",
                    "hardware": ["coreType": "standard", "coresPerSlot": 1, "slots": 1], "inputFiles": [["id": input]],
                    "templateTasks": [["templateFile": ["id": template], "processedFilename": "airFoil2D_DOE/0/U"]],
                ]],
            ])
            #expect(created.status == .created, "\(String(buffer: created.body))")
            try Self.expectShape(created, "job-get.json")
            let id = try #require(try S.json(created)["id"] as? String)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/submit/", method: .post, headers: S.alice).status == .ok)
            #expect(try await E.waitFor("Completed", id, stack).first?.statusReason == "2 of 2 runs succeeded")
            try Self.expectShape(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/2/", method: .get, headers: S.alice), "run.json")
            // One per page, so that `next` is a link as in the sample.
            try Self.expectShape(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/?page_size=1", method: .get, headers: S.alice),
                                 "run-list.json")
            let variables = try S.json(try await client.execute(uri: "/alice/api/v2/jobs/\(id)/runs/2/", method: .get, headers: S.alice))["variables"]
            #expect((variables as? [[String: Any]])?.map { "\($0["name"]!)=\($0["displayValue"]!)" } == ["Xvelocity=20", "Yvelocity=3.5"])
            let log = try await DOETests.outputs(id, named: "process_output.log", runs: 2, stack)
            #expect(log["2"]?.hasSuffix(" =====\nU 20 3.5\n") == true, "the template replaced the unpacked file")
        }
    }

    /// A running run: its working directory, a file's last lines, and stopping it alone.
    @Test func aRunningRunAnswersInTheDocsShapes() async throws {
        try await E.run(.local) { client, stack, _ in
            let command = #"mkdir -p airFoil2D/0 && seq 1 30 > airFoil2D/0/U && printf 'x\0y' > data.bin && sleep 600"#
            let id = try await StepsTests.submit(client, DOETests.doe(command, variables: [DOETests.fixedRange("i", 1, 2)]))
            let run = "/alice/api/v2/jobs/\(id)/runs/1"
            var listing: TestResponse?
            for _ in 0..<100 {
                let response = try await client.execute(uri: "\(run)/directory-contents/", method: .get, headers: S.alice)
                if response.status == .ok, String(buffer: response.body).contains("data.bin") {
                    listing = response
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let contents = try #require(listing)
            try Self.expectShape(contents, "directory-contents.json")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(buffer: contents.body)) as? [[String: Any]])
            #expect(entries.map { $0["path"] as? String } == ["airFoil2D/0/U", "data.bin", "process_output.log"])
            #expect(entries.first?["size"] as? Int == 81)
            #expect((entries.first?["resource"] as? String)?.hasSuffix("/alice/api/v2/jobs/\(id)/runs/1/tail/airFoil2D/0/U") == true)

            let lines = try await client.execute(uri: "\(run)/tail/airFoil2D/0/U?lines=3", method: .get, headers: S.alice)
            try Self.expectShape(lines, "tail-lines.json")
            #expect(try S.json(lines)["lines"] as? [String] == ["28", "29", "30"])
            #expect(try S.json(lines)["fileType"] as? String == "ASCII text")
            let raw = try await client.execute(uri: "\(run)/tail/data.bin", method: .get, headers: S.alice)
            #expect(raw.status == .ok && Data(buffer: raw.body) == Data("x\u{0}y".utf8))
            #expect(try await client.execute(uri: "/bob/api/v2/jobs/\(id)/runs/1/directory-contents/", method: .get, headers: S.bob).status == .notFound)

            let stopped = try await client.execute(uri: "\(run)/stop/", method: .post, headers: S.alice)
            #expect(stopped.status == .accepted)
            try Self.expectShape(stopped, "run-stop-response.json")
            _ = try await client.execute(uri: "/alice/api/v2/jobs/\(id)/stop/", method: .post, headers: S.alice)
            _ = try await E.waitFor("Completed", id, stack)
            #expect(try await client.execute(uri: "\(run)/directory-contents/", method: .get, headers: S.alice).status == .conflict)
        }
    }
}
