import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresNIO
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import FilesService

/// Files hold every key of the Rescale docs' and the seed's File samples
/// (Tests/Fixtures/rescale), and outputs carry Rescale's output `path`.
@Suite struct FileShapeTests {
    /// Every File sample: the seed's upload, the docs' upload, metadata and PATCH answers.
    static let fileSamples = ["seed-file-upload.json", "file-upload.json", "file.json", "file-patch-response.json"]

    static func expectShape(_ body: ByteBuffer, _ samples: [String], _ what: String) throws {
        for sample in samples {
            let problems = try JSONShape.mismatches(ofJSON: body, against: sample)
            #expect(problems.isEmpty, "\(what) against \(sample): \(problems)")
        }
    }

    @Test func uploadedFilesHaveEveryKeyOfTheSamples() async throws {
        try await FilesTestApp.run { client, _ in
            let created = try await client.upload(Data("hello\n".utf8), filename: "testInput.txt")
            #expect(created.status == .created)
            try Self.expectShape(created.body, Self.fileSamples, "POST files/contents/")
            let file = try JSONDecoder.simforge().decode(File.self, from: Data(buffer: created.body))
            #expect(!file.isDeleted)
            #expect(String(buffer: created.body).contains(#""isDeleted":false"#))

            let read = try await client.execute(uri: "/alice/api/v2/files/\(file.id)/", method: .get, headers: Users.alice)
            try Self.expectShape(read.body, Self.fileSamples, "GET files/{id}/")
            var json = Users.alice
            json[.contentType] = "application/json"
            let patched = try await client.execute(
                uri: "/alice/api/v2/files/\(file.id)/", method: .patch, headers: json, body: ByteBuffer(string: #"{"typeId": 4, "name": "new_script.txt"}"#))
            #expect(patched.status == .ok)
            try Self.expectShape(patched.body, Self.fileSamples, "PATCH files/{id}/")

            // A second file, so that a page of one has a `next` link as in the sample.
            #expect(try await client.upload(Data("x".utf8)).status == .created)
            let page = try await client.execute(uri: "/alice/api/v2/files/?page_size=1", method: .get, headers: Users.alice)
            let problems = try JSONShape.mismatches(ofJSON: page.body, against: "file-list.json")
            #expect(problems.isEmpty, "GET files/?page_size=1: \(problems)")
        }
    }

    @Test func outputsHaveRescalesOutputPathAndEveryKey() async throws {
        try await FilesTestApp.run { client, _ in
            let stored = try await JobFilesTests.storeOutput(client, job: "JobA01", run: "2", path: "./airFoil2D/0/nut", Data("nut\n".utf8))
            #expect(stored.status == .created)
            try Self.expectShape(stored.body, Self.fileSamples + ["file-output-run.json"], "an output")
            let output = try JSONDecoder.simforge().decode(File.self, from: Data(buffer: stored.body))
            #expect(output.path == "user/user_alice/output/job_JobA01/run2/airFoil2D/0/nut")
            #expect(output.relativePath == "airFoil2D/0/nut")
            #expect(output.name == "nut")
            // The python SDK's DOE example: os.path.join('output', *file.path.split('/')[4:]).
            #expect(output.path.split(separator: "/").dropFirst(4) == ["run2", "airFoil2D", "0", "nut"])
            let read = try await client.execute(uri: "/alice/api/v2/files/\(output.id)/", method: .get, headers: Users.alice)
            #expect(try JSONDecoder.simforge().decode(File.self, from: Data(buffer: read.body)).path == output.path)
        }
    }

    /// Outputs stored before migration 3 get the same path as new ones; uploads keep theirs.
    @Test func olderOutputsGetRescalesOutputPath() async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            try await TestPostgres.withClient(settings) { client async throws in
                let firstTwo = MigrationRunner(schema: "files", migrations: Array(FilesMigrations.runner.migrations.prefix(2)))
                #expect(try await firstTwo.run(on: client, logger: TestPostgres.logger) == [1, 2])
                for (id, jobId, runId, relativePath, storagePath) in [
                    ("Out001", "JobA01", "1", "dir/result.csv", "user/user_alice/result-0a1b.csv"),
                    ("Inp001", nil, nil, "mesh.zip", "user/user_alice/mesh-2c3d.zip"),
                ] as [(String, String?, String?, String, String)] {
                    try await client.query(
                        """
                        INSERT INTO files.files (id, owner, type_id, name, relative_path, storage_path, blob_name, key_id, wrapped_key,
                            decrypted_size, md5, is_uploaded, job_id, run_id)
                        VALUES (\(id), 'alice', 1, 'n', \(relativePath), \(storagePath), \(id), 'k1', 'w', 0, NULL, true, \(jobId), \(runId))
                        """, logger: TestPostgres.logger
                    ).drain()
                }
                #expect(try await FilesMigrations.runner.run(on: client, logger: TestPostgres.logger) == [3, 4])
                let repository = FilePostgresRepository(client: client)
                #expect(try await repository.file(id: "Out001", owner: "alice", logger: TestPostgres.logger)?.storagePath
                    == "user/user_alice/output/job_JobA01/run1/dir/result.csv")
                #expect(try await repository.file(id: "Inp001", owner: "alice", logger: TestPostgres.logger)?.storagePath
                    == "user/user_alice/mesh-2c3d.zip")
            }
        }
    }
}
