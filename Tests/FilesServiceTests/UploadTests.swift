import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeTestSupport
import Testing
@testable import FilesService

/// Uploads over loopback into PostgreSQL and encrypted blobs, and back.
@Suite struct UploadTests {
    static func file(_ response: TestResponse) throws -> File {
        try JSONDecoder.simforge().decode(File.self, from: Data(buffer: response.body))
    }

    @Test(arguments: [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 5_000_000])
    func roundTripKeepsEveryByteAndTheMD5(size: Int) async throws {
        try await FilesTestApp.run { client, _ in
            let content = Data.random(count: size)
            let created = try await client.upload(content, filename: "mesh.bin")
            #expect(created.status == .created)
            let file = try Self.file(created)
            #expect(file.md5 == content.md5Hex)
            #expect(file.decryptedSize == Int64(size))
            #expect(file.isUploaded)
            #expect(file.typeId == 1)
            #expect(file.owner == "alice")
            #expect(file.name == "mesh.bin")
            #expect(file.relativePath == "mesh.bin")
            #expect(file.path.hasPrefix("user/user_alice/mesh-") && file.path.hasSuffix(".bin"))
            #expect(file.downloadUrl.hasSuffix("/alice/api/v2/files/\(file.id)/contents/"))
            #expect(file.sharedWith.isEmpty)

            let download = try await client.execute(uri: "/alice/api/v2/files/\(file.id)/contents/", method: .get, headers: Users.alice)
            #expect(download.status == .ok)
            #expect(Data(buffer: download.body) == content)
            #expect(download.headers[.eTag] == "\"\(content.md5Hex)\"")
            #expect(download.headers[.contentLength] == String(size))
            #expect(download.headers[.contentDisposition]?.contains("filename=\"mesh.bin\"") == true)
        }
    }

    @Test func boundaryLikeBytesAndCRLFsInsideTheFileSurvive() async throws {
        try await FilesTestApp.run { client, _ in
            var body = MultipartBody()
            // Near misses only: a part may not contain its full delimiter (RFC 2046 §5.1.1).
            var content = Data("\r\n--\(body.boundary.dropLast())-not-quite\r\n--\r\n\r\n\r--\(body.boundary)\n".utf8)
            content += Data.random(count: 70_000)
            content += Data("\r\n--\(body.boundary.dropLast())\r\n".utf8)
            body.addFile(content, filename: "tricky.txt")
            var headers = Users.alice
            headers[.contentType] = body.contentType
            let created = try await client.execute(uri: "/alice/api/v2/files/contents/", method: .post, headers: headers, body: body.finished())
            let file = try Self.file(created)
            #expect(file.md5 == content.md5Hex)
            let download = try await client.execute(uri: "/alice/api/v2/files/\(file.id)/contents/", method: .get, headers: Users.alice)
            #expect(Data(buffer: download.body) == content)
        }
    }

    @Test func typeIdComesFromTheFormFieldOrThePartHeader() async throws {
        try await FilesTestApp.run { client, _ in
            let viaField = try await client.upload(Data("x".utf8)) { $0.addField("typeId", "4") }
            #expect(try Self.file(viaField).typeId == 4)

            var body = MultipartBody()
            body.addFile(Data("y".utf8), filename: "case.zip", extraHeaders: ["type_id: 8"])
            var headers = Users.alice
            headers[.contentType] = body.contentType
            let viaHeader = try await client.execute(uri: "/alice/api/v2/files/content/", method: .post, headers: headers, body: body.finished())
            #expect(viaHeader.status == .created)
            #expect(try Self.file(viaHeader).typeId == 8)
        }
    }

    @Test func directoryComponentsAreStrippedFromTheName() async throws {
        try await FilesTestApp.run { client, _ in
            let response = try await client.upload(Data("z".utf8), filename: "../../etc/C:\\\\cases\\\\run 1.inp")
            #expect(try Self.file(response).name == "run 1.inp")
        }
    }

    @Test func badUploadsAreRefusedAndLeaveNothing() async throws {
        try await FilesTestApp.run { client, app in
            // Not multipart: 415.
            var json = Users.alice
            json[.contentType] = "application/json"
            let notMultipart = try await client.execute(uri: "/alice/api/v2/files/contents/", method: .post, headers: json, body: ByteBuffer(string: "{}"))
            #expect(notMultipart.status == .unsupportedMediaType)

            // No file part: 400 with a field error.
            var noFile = MultipartBody()
            noFile.addField("typeId", "1")
            var headers = Users.alice
            headers[.contentType] = noFile.contentType
            let missing = try await client.execute(uri: "/alice/api/v2/files/contents/", method: .post, headers: headers, body: noFile.finished())
            #expect(missing.status == .badRequest)
            #expect(String(buffer: missing.body) == #"{"file":["No file was submitted."]}"#)

            // Cut before the closing boundary: malformed, 400.
            var cut = MultipartBody()
            cut.addFile(Data.random(count: 100_000))
            headers[.contentType] = cut.contentType
            let truncated = try await client.execute(uri: "/alice/api/v2/files/contents/", method: .post, headers: headers, body: ByteBuffer(data: cut.data))
            #expect(truncated.status == .badRequest)

            // A type that does not exist.
            let badType = try await client.upload(Data("x".utf8)) { $0.addField("typeId", "6") }
            #expect(badType.status == .badRequest)
            #expect(String(buffer: badType.body).contains("typeId"))

            #expect(try await app.rowCount() == 0)
            #expect(app.storedFiles().isEmpty)
        }
    }

    @Test func oversizedUploadIs413AndLeavesNothing() async throws {
        try await FilesTestApp.run(maxUploadBytes: 100_000) { client, app in
            let response = try await client.upload(Data.random(count: 300_000))
            #expect(response.status == .contentTooLarge)
            let fits = try await client.upload(Data.random(count: 100_000))
            #expect(fits.status == .created)
            #expect(try await app.rowCount() == 1)
            #expect(app.storedFiles().count == 1)
        }
    }

    @Test func aCutConnectionLeavesNoRowAndNoBlob() async throws {
        try await FilesTestApp.run { client, app in
            let port = try #require(client.port)
            let body = MultipartBody()
            let head = "--\(body.boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n"
            try await RawHTTP.onThread {
                try RawHTTP.sendAndHangUp(port: port, head: [
                    "POST /alice/api/v2/files/contents/ HTTP/1.1", "Host: 127.0.0.1", "X-Consumer-Custom-ID: alice", "X-Gateway-Secret: \(TestGateway.secret)",
                    "Content-Type: \(body.contentType)", "Content-Length: 10000000",
                ], body: Data(head.utf8) + Data.random(count: 2_000_000))
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await app.rowCount() == 0)
            #expect(app.storedFiles().isEmpty)
            // The service still works.
            #expect(try await client.upload(Data("ok".utf8)).status == .created)
        }
    }

    @Test func noPlaintextByteSequenceReachesTheStorageDirectory() async throws {
        try await FilesTestApp.run { client, app in
            let marker = Data("SIMFORGE-PLAINTEXT-MARKER-".utf8) + Data.random(count: 38)
            var content = Data()
            for _ in 0..<2000 { content += marker }
            #expect(try await client.upload(content, filename: "secret.txt").status == .created)
            let stored = app.storedFiles()
            #expect(stored.count == 1)
            let probe = marker.prefix(16)
            for url in stored {
                let bytes = try Data(contentsOf: url)
                #expect(bytes.range(of: probe) == nil, "plaintext found in \(url.path)")
                #expect(bytes.range(of: Data("secret.txt".utf8)) == nil)
            }
        }
    }
}
