import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import FilesService

/// What a job's agent does with files (job-scoped token), and the public listing of outputs.
@Suite struct JobFilesTests {
    static let secret = "test-internal-token"

    static func jobHeaders(job: String, owner: String = "alice", secret: String = JobFilesTests.secret) -> HTTPFields {
        [HTTPField.Name(JobToken.header)!: JobToken(jobId: job, owner: owner).mint(secret: secret)]
    }

    static func file(_ response: TestResponse) throws -> File {
        try JSONDecoder.simforge().decode(File.self, from: Data(buffer: response.body))
    }

    static func storeOutput(_ client: any TestClientProtocol, job: String, run: String = "1", path: String, _ content: Data) async throws -> TestResponse {
        let query = "runId=\(run)&relativePath=\(path.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
        return try await client.execute(uri: "/internal/jobs/\(job)/outputs?\(query)", method: .post, headers: Self.jobHeaders(job: job), body: ByteBuffer(data: content))
    }

    @Test func theAgentReadsItsOwnersInputsWithItsJobToken() async throws {
        try await FilesTestApp.run { client, _ in
            let content = Data.random(count: 150_000)
            let input = try Self.file(try await client.upload(content, filename: "mesh.zip"))
            let meta = try await client.execute(uri: "/internal/jobs/JobA01/files/\(input.id)", method: .get, headers: Self.jobHeaders(job: "JobA01"))
            #expect(try Self.file(meta).name == "mesh.zip")
            let bytes = try await client.execute(uri: "/internal/jobs/JobA01/files/\(input.id)/contents", method: .get, headers: Self.jobHeaders(job: "JobA01"))
            #expect(Data(buffer: bytes.body) == content)

            // A token for another job, another owner, or forged: refused or not found.
            let wrongJob = try await client.execute(uri: "/internal/jobs/JobA01/files/\(input.id)/contents", method: .get, headers: Self.jobHeaders(job: "JobB02"))
            #expect(wrongJob.status == .unauthorized)
            let bobsJob = try await client.execute(uri: "/internal/jobs/JobB02/files/\(input.id)/contents", method: .get, headers: Self.jobHeaders(job: "JobB02", owner: "bob"))
            #expect(bobsJob.status == .notFound)
            let forged = try await client.execute(uri: "/internal/jobs/JobA01/files/\(input.id)", method: .get, headers: Self.jobHeaders(job: "JobA01", secret: "guess"))
            #expect(forged.status == .unauthorized)
            let none = try await client.execute(uri: "/internal/jobs/JobA01/files/\(input.id)", method: .get)
            #expect(none.status == .unauthorized)
        }
    }

    /// Listing them is tested beside a real jobs service (JobsServiceTests.JobOutputsTests).
    @Test func outputsAreStoredWithTheirRelativePaths() async throws {
        try await FilesTestApp.run { client, _ in
            let log = Data("solver finished\n".utf8)
            let stored = try await Self.storeOutput(client, job: "JobA01", path: "process_output.log", log)
            #expect(stored.status == .created)
            let output = try Self.file(stored)
            #expect(output.typeId == 5)
            #expect(output.relativePath == "process_output.log")
            #expect(output.md5 == log.md5Hex)
            let field = try await Self.storeOutput(client, job: "JobA01", path: "./postProcessing/forces/0/force.dat", Data.random(count: 200_000))
            #expect(try Self.file(field).relativePath == "postProcessing/forces/0/force.dat")
            #expect(try Self.file(field).name == "force.dat")
            let download = try await client.execute(uri: "/alice/api/v2/files/\(output.id)/contents/", method: .get, headers: Users.alice)
            #expect(Data(buffer: download.body) == log)
        }
    }

    @Test(arguments: ["", "/etc/passwd", "../escape.txt", "a/../../b", "a/\u{1}b"])
    func outputPathsMustStayInsideTheWorkingDirectory(path: String) async throws {
        try await FilesTestApp.run { client, app in
            let response = try await Self.storeOutput(client, job: "JobA01", path: path, Data("x".utf8))
            #expect(response.status == .badRequest)
            #expect(try await app.rowCount() == 0)
            #expect(app.storedFiles().isEmpty)
        }
    }

    @Test func rotationRewrapsEveryKeyAndTheDataStillReads() async throws {
        let oldKeys = FilesTestApp.keySpec()
        let content = Data.random(count: 100_000)
        try await TestPostgres.withFreshDatabase { settings async throws in
            let storage = FileManager.default.temporaryDirectory.appendingPathComponent("rotation-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: storage) }
            func app(_ keys: String) async throws -> some ApplicationProtocol {
                try await buildApplication(
                    configuration: FilesConfiguration(
                        http: .loopback(), postgres: settings, storageDirectory: storage.path,
                        keyring: try MasterKeyring(spec: keys), maxUploadBytes: 1 << 30, internalToken: Self.secret,
                        publicAPI: TestGateway.publicAPI, jobsURL: FilesTestApp.noJobsService),
                    logger: .init(label: "rotation-test"), registry: .init())
            }
            let id = try await app(oldKeys).test(.live) { client in
                try Self.file(try await client.upload(content)).id
            }
            let newKeys = FilesTestApp.keySpec().replacingOccurrences(of: "k1:", with: "k2:") + "," + oldKeys
            try await app(newKeys).test(.live) { client in
                let internalToken: HTTPFields = [HTTPField.Name("X-Internal-Token")!: Self.secret]
                let refused = try await client.execute(uri: "/internal/keys/rotate", method: .post)
                #expect(refused.status == .unauthorized)
                let first = try await client.execute(uri: "/internal/keys/rotate", method: .post, headers: internalToken)
                #expect(String(buffer: first.body).contains(#""rewrapped":1"#))
                let second = try await client.execute(uri: "/internal/keys/rotate", method: .post, headers: internalToken)
                #expect(String(buffer: second.body).contains(#""rewrapped":0"#))
            }
            // The old key can go: the new one alone reads the file.
            let onlyNew = String(newKeys.split(separator: ",")[0])
            try await app(onlyNew).test(.live) { client in
                let download = try await client.execute(uri: "/alice/api/v2/files/\(id)/contents/", method: .get, headers: Users.alice)
                #expect(Data(buffer: download.body) == content)
            }
        }
    }
}
