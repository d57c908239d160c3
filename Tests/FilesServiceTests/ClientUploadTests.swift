import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeTestSupport
import Testing
@testable import FilesService

/// Uploads as real Rescale clients send them (Tests/Fixtures/rescale/README.md): the python
/// SDK's PUT, the docs' python example (a malformed part Content-Type), Rescale's own DOE
/// example (`typeId` as a part with a filename), a filename with folders.
@Suite struct ClientUploadTests {
    static func file(_ response: TestResponse) throws -> File {
        try JSONDecoder.simforge().decode(File.self, from: Data(buffer: response.body))
    }

    /// The python SDK: `PUT files/contents/`, one part without a Content-Type.
    @Test func putUploadsExactlyLikePost() async throws {
        try await FilesTestApp.run { client, _ in
            let content = Data.random(count: 70_000)
            for path in ["/alice/api/v2/files/contents/", "/alice/api/v2/files/content/", "/alice/api/v2/files/contents"] {
                var body = MultipartBody()
                body.addFile(content, filename: "run_fmm", contentType: nil)
                let created = try await client.upload(body, path: path, method: .put)
                #expect(created.status == .created, "PUT \(path): \(String(buffer: created.body))")
                let file = try Self.file(created)
                #expect(file.name == "run_fmm" && file.typeId == File.TypeID.input && file.md5 == content.md5Hex)
                let problems = try JSONShape.mismatches(ofJSON: created.body, against: "file-upload.json")
                #expect(problems.isEmpty, "\(problems)")
                let download = try await client.execute(uri: "/alice/api/v2/files/\(file.id)/contents/", method: .get, headers: Users.alice)
                #expect(Data(buffer: download.body) == content)
            }
        }
    }

    /// What python's requests sends for the docs' `files={'file': (name, fp, {'type_id': 1})}`
    /// (and rescalepy's upload): the dict becomes the part's Content-Type.
    @Test func aMalformedPartContentTypeIsIgnored() async throws {
        try await FilesTestApp.run { client, _ in
            var body = MultipartBody()
            body.addFile(Data("airfoil".utf8), filename: "airfoil2D.zip", contentType: "{'type_id': 1}")
            let created = try await client.upload(body)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let file = try Self.file(created)
            #expect(file.typeId == File.TypeID.input && file.name == "airfoil2D.zip")
            var garbage = MultipartBody()
            garbage.addFile(Data("x".utf8), filename: "x.txt", contentType: "\u{1}not/a type; ===")
            #expect(try await client.upload(garbage, method: .put).status == .created)
        }
    }

    /// Rescale's DOE example: `files={'file': open(...), 'typeId': 2}` sends `typeId` as a
    /// part with a filename.
    @Test func typeIdMayComeAsAPartWithAFilename() async throws {
        try await FilesTestApp.run { client, _ in
            let template = Data("internalField uniform (${x_velocity} 0 0);".utf8)
            var body = MultipartBody()
            body.addFile(template, filename: "U.inp_template", contentType: nil)
            body.addFile(Data("2".utf8), filename: "typeId", name: "typeId", contentType: nil)
            let created = try await client.upload(body)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let file = try Self.file(created)
            #expect(file.typeId == 2)
            #expect(file.name == "U.inp_template")
            #expect(file.md5 == template.md5Hex)
        }
    }

    /// A filename with folders (requests_toolbelt sends the path as given) keeps its last part.
    @Test func aFilenameWithFoldersKeepsOnlyItsLastComponent() async throws {
        try await FilesTestApp.run { client, _ in
            let file = try Self.file(try await client.upload(Data("zip".utf8), filename: "inputs/cases/cavity.zip"))
            #expect(file.name == "cavity.zip")
            #expect(file.relativePath == "cavity.zip")
            #expect(file.path.hasPrefix("user/user_alice/cavity-") && file.path.hasSuffix(".zip"))
            #expect(!file.path.contains("inputs"))
        }
    }
}
