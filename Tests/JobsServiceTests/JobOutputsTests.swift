import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing

/// A job's output files as the public API lists them (files asks jobs whether the job and
/// run are the caller's): per job, per run, searched, and 404 like every other route for
/// another user's job, a job that does not exist, or a run the job does not have.
@Suite struct JobOutputsTests {
    typealias S = JobsStack

    @Test func outputsAreListedPerJobAndRunForTheirOwnerOnly() async throws {
        try await S.run { client, stack in
            // Submitted without a compute backend: the job waits Pending with its run "1".
            let created = try await client.execute(
                uri: "/alice/api/v2/jobs/", method: .post, headers: S.alice, body: ByteBuffer(string: S.jobJSON(fileId: try await stack.upload())))
            let job = try #require(try S.json(created)["id"] as? String)
            #expect(try await client.execute(uri: "/alice/api/v2/jobs/\(job)/submit/", method: .post, headers: S.alice).status == .ok)
            let token: HTTPFields = [HTTPField.Name(JobToken.header)!: JobToken(jobId: job, owner: "alice").mint(secret: S.token)]
            for path in ["process_output.log", "postProcessing/forces/0/force.dat"] {
                let stored = try await stack.files.execute(
                    uri: "/internal/jobs/\(job)/outputs?runId=1&relativePath=\(path.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                    method: .post, headers: token, body: ByteBuffer(string: "output of \(path)\n"))
                #expect(stored.status == .created)
            }

            func list(_ path: String, as user: HTTPFields = S.alice, userId: String = "alice") async throws -> TestResponse {
                try await stack.files.execute(uri: "/\(userId)/api/v2/\(path)", method: .get, headers: user)
            }
            let listed = try await list("jobs/\(job)/files/")
            #expect(listed.status == .ok, "\(String(buffer: listed.body))")
            let all = try JSONDecoder.simforge().decode(Page<File>.self, from: Data(buffer: listed.body))
            #expect(all.results.map(\.relativePath) == ["postProcessing/forces/0/force.dat", "process_output.log"])
            // Rescale's output path; the python SDK rebuilds the tree from what follows `job_{id}/`.
            #expect(all.results.map(\.path) == [
                "user/user_alice/output/job_\(job)/run1/postProcessing/forces/0/force.dat", "user/user_alice/output/job_\(job)/run1/process_output.log",
            ])
            #expect(all.results.map { $0.path.split(separator: "/").dropFirst(4).joined(separator: "/") } == [
                "run1/postProcessing/forces/0/force.dat", "run1/process_output.log",
            ])
            let shape = try JSONShape.mismatches(ofJSON: listed.body, against: "job-files-list.json")
            #expect(shape.isEmpty, "\(shape)")
            let run = try JSONDecoder.simforge().decode(Page<File>.self, from: Data(buffer: try await list("jobs/\(job)/runs/1/files/?search=LOG").body))
            #expect(run.results.map(\.relativePath) == ["process_output.log"])

            #expect(try await list("jobs/\(job)/files/", as: S.bob, userId: "bob").status == .notFound)
            #expect(try await list("jobs/\(job)/runs/1/files/", as: S.bob, userId: "bob").status == .notFound)
            #expect(try await list("jobs/\(job)/runs/2/files/").status == .notFound)
            #expect(try await list("jobs/NoSuchJob/files/").status == .notFound)
            #expect(try await list("jobs/\(job)/files/?search=a%00b").status == .badRequest)
        }
    }
}
