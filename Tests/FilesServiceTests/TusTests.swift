import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import FilesService

/// Resumable uploads with the tus 1.0.0 protocol.
@Suite struct TusTests {
    static let tus = HTTPField.Name("Tus-Resumable")!
    static let offset = HTTPField.Name("Upload-Offset")!
    static let length = HTTPField.Name("Upload-Length")!
    static let metadata = HTTPField.Name("Upload-Metadata")!

    static func headers(_ user: HTTPFields = Users.alice, _ extra: [HTTPField.Name: String] = [:]) -> HTTPFields {
        var headers = user
        headers[Self.tus] = "1.0.0"
        for (name, value) in extra { headers[name] = value }
        return headers
    }

    /// Creates an upload; returns its id (the file's id).
    static func create(_ client: any TestClientProtocol, length: Int, name: String = "big.dat", typeId: Int? = nil) async throws -> String {
        var metadata = "filename \(Data(name.utf8).base64EncodedString())"
        if let typeId { metadata += ",typeId \(Data(String(typeId).utf8).base64EncodedString())" }
        let response = try await client.execute(
            uri: "/alice/api/v2/files/uploads/", method: .post, headers: Self.headers(Users.alice, [Self.length: String(length), Self.metadata: metadata]))
        #expect(response.status == .created)
        let location = try #require(response.headers[.location])
        return String(location.split(separator: "/").last!)
    }

    static func patch(_ client: any TestClientProtocol, _ id: String, offset: Int, _ bytes: Data, user: HTTPFields = Users.alice,
                      path: String = "/alice/api/v2/files/uploads/") async throws -> TestResponse {
        try await client.execute(
            uri: path + id, method: .patch,
            headers: Self.headers(user, [Self.offset: String(offset), HTTPField.Name("Content-Type")!: "application/offset+octet-stream"]),
            body: ByteBuffer(data: bytes))
    }

    static func serverOffset(_ client: any TestClientProtocol, _ id: String) async throws -> Int? {
        let response = try await client.execute(uri: "/alice/api/v2/files/uploads/\(id)", method: .head, headers: Self.headers())
        return response.headers[Self.offset].flatMap { Int($0) }
    }

    static func file(_ client: any TestClientProtocol, _ id: String) async throws -> File {
        try JSONDecoder.simforge().decode(File.self, from: Data(buffer:
            try await client.execute(uri: "/alice/api/v2/files/\(id)/", method: .get, headers: Users.alice).body))
    }

    @Test func discoveryAnnouncesVersionAndExtensions() async throws {
        try await FilesTestApp.run { client, _ in
            let response = try await client.execute(uri: "/alice/api/v2/files/uploads/", method: .options, headers: Users.alice)
            #expect(response.status == .noContent)
            #expect(response.headers[HTTPField.Name("Tus-Version")!] == "1.0.0")
            #expect(response.headers[HTTPField.Name("Tus-Extension")!] == "creation,termination")
        }
    }

    @Test func uploadInPiecesCreatesTheFileOnTheLastByte() async throws {
        try await FilesTestApp.run { client, _ in
            let content = Data.random(count: 300_001)
            let id = try await Self.create(client, length: content.count, name: "case.zip", typeId: 8)
            let pending = try await Self.file(client, id)
            #expect(!pending.isUploaded)
            #expect(pending.name == "case.zip")
            #expect(pending.typeId == 8)
            let early = try await client.execute(uri: "/alice/api/v2/files/\(id)/contents/", method: .get, headers: Users.alice)
            #expect(early.status == .conflict)

            let first = try await Self.patch(client, id, offset: 0, content[0..<100_000])
            #expect(first.status == .noContent)
            #expect(first.headers[Self.offset] == "100000")
            #expect(try await Self.serverOffset(client, id) == 100_000)
            let stale = try await Self.patch(client, id, offset: 50_000, content[50_000..<60_000])
            #expect(stale.status == .conflict)
            _ = try await Self.patch(client, id, offset: 100_000, content[100_000..<250_000])
            let last = try await Self.patch(client, id, offset: 250_000, content[250_000...])
            #expect(last.status == .noContent)

            let done = try await Self.file(client, id)
            #expect(done.isUploaded)
            #expect(done.md5 == content.md5Hex)
            #expect(done.decryptedSize == Int64(content.count))
            let download = try await client.execute(uri: "/alice/api/v2/files/\(id)/contents/", method: .get, headers: Users.alice)
            #expect(Data(buffer: download.body) == content)
            let again = try await Self.patch(client, id, offset: content.count, Data("x".utf8))
            #expect(again.status == .conflict)
        }
    }

    /// Two replicas take PATCHes for the same upload at the same offset at once, round
    /// after round: one writes, the other is refused (409), and the file's bytes and MD5
    /// are exactly what was sent.
    @Test func twoReplicasRacingOnOneUploadNeverCorruptIt() async throws {
        try await FilesTestApp.run { first, app in
            try await app.withReplica { second in
                let content = Data.random(count: 2_000_000)
                let id = try await Self.create(first, length: content.count)
                let piece = 250_000
                var offset = 0
                while offset < content.count {
                    let bytes = content[offset..<min(offset + piece, content.count)]
                    let start = offset
                    async let a = Self.patch(first, id, offset: start, bytes)
                    async let b = Self.patch(second, id, offset: start, bytes)
                    let statuses = [try await a.status, try await b.status]
                    #expect(statuses.contains(.noContent), "\(statuses)")
                    #expect(statuses.allSatisfy { $0 == .noContent || $0 == .conflict }, "\(statuses)")
                    offset = try #require(try await Self.serverOffset(second, id))
                    #expect(offset == start + bytes.count, "one of the two was kept, once")
                }
                let done = try await Self.file(second, id)
                #expect(done.isUploaded)
                #expect(done.md5 == content.md5Hex)
                let download = try await first.execute(uri: "/alice/api/v2/files/\(id)/contents/", method: .get, headers: Users.alice)
                #expect(Data(buffer: download.body) == content)
            }
        }
    }

    @Test func aCutTransferResumesAtTheServersOffset() async throws {
        try await FilesTestApp.run { client, app in
            let content = Data.random(count: 3_000_000)
            let id = try await Self.create(client, length: content.count)
            let port = try #require(client.port)
            try await RawHTTP.onThread {
                try RawHTTP.sendAndHangUp(port: port, head: [
                    "PATCH /alice/api/v2/files/uploads/\(id) HTTP/1.1", "Host: 127.0.0.1", "X-Consumer-Custom-ID: alice", "X-Gateway-Secret: \(TestGateway.secret)",
                    "Tus-Resumable: 1.0.0", "Upload-Offset: 0", "Content-Type: application/offset+octet-stream",
                    "Content-Length: \(content.count)",
                ], body: content.prefix(1_200_000))
            }
            var resumeAt: Int?
            for _ in 0..<50 {
                resumeAt = try await Self.serverOffset(client, id)
                if let resumeAt, resumeAt > 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let offset = try #require(resumeAt)
            #expect(offset > 0 && offset <= 1_200_000)
            let rest = try await Self.patch(client, id, offset: offset, content[offset...])
            #expect(rest.status == .noContent)
            let done = try await Self.file(client, id)
            #expect(done.md5 == content.md5Hex)
            let download = try await client.execute(uri: "/alice/api/v2/files/\(id)/contents/", method: .get, headers: Users.alice)
            #expect(Data(buffer: download.body) == content)
            // Staged bytes are gone once the blob exists; nothing in plaintext anywhere.
            #expect(app.storedFiles().count == 1)
        }
    }

    @Test func stagedBytesAreEncryptedToo() async throws {
        try await FilesTestApp.run { client, app in
            let marker = Data("TUS-PLAINTEXT-MARKER-".utf8) + Data.random(count: 11)
            var content = Data()
            for _ in 0..<3000 { content += marker }
            let id = try await Self.create(client, length: content.count + 10)
            _ = try await Self.patch(client, id, offset: 0, content)
            let stored = app.storedFiles()
            #expect(stored.count == 1)
            for url in stored {
                #expect(try Data(contentsOf: url).range(of: marker.prefix(16)) == nil, "plaintext staged in \(url.path)")
            }
        }
    }

    @Test func terminationRemovesTheUploadAndItsBytes() async throws {
        try await FilesTestApp.run { client, app in
            let id = try await Self.create(client, length: 1000)
            _ = try await Self.patch(client, id, offset: 0, Data.random(count: 400))
            #expect(app.storedFiles().count == 1)
            let deleted = try await client.execute(uri: "/alice/api/v2/files/uploads/\(id)", method: .delete, headers: Self.headers())
            #expect(deleted.status == .noContent)
            #expect(app.storedFiles().isEmpty)
            #expect(try await app.rowCount() == 0)
            #expect(try await Self.serverOffset(client, id) == nil)
        }
    }

    @Test func expiredUploadsAreSweptAway() async throws {
        try await FilesTestApp.run { client, app in
            let id = try await Self.create(client, length: 1000)
            _ = try await Self.patch(client, id, offset: 0, Data.random(count: 10))
            let finished = try await Self.create(client, length: 3)
            _ = try await Self.patch(client, finished, offset: 0, Data("abc".utf8))
            try await TestPostgres.withClient(app.postgres) { postgres async throws in
                let sweeper = ExpiredUploadSweeper(
                    repository: FilePostgresRepository(client: postgres), staging: UploadStaging(root: .init(app.storage.path)),
                    interval: .seconds(60), logger: TestPostgres.logger)
                #expect(try await sweeper.sweep() == 0)
                #expect(try await sweeper.sweep(now: Date().addingTimeInterval(86400 + 60)) == 1)
            }
            #expect(try await Self.serverOffset(client, id) == nil)
            #expect(try await app.rowCount() == 1)
            #expect(try await Self.file(client, finished).isUploaded)
            #expect(app.storedFiles().count == 1)
        }
    }

    @Test func protocolErrors() async throws {
        try await FilesTestApp.run { client, _ in
            let noVersion = try await client.execute(
                uri: "/alice/api/v2/files/uploads/", method: .post, headers: Users.alice + [HTTPField(name: Self.length, value: "10")])
            #expect(noVersion.status == .preconditionFailed)
            let noLength = try await client.execute(uri: "/alice/api/v2/files/uploads/", method: .post, headers: Self.headers())
            #expect(noLength.status == .badRequest)

            let id = try await Self.create(client, length: 10)
            let tooLong = try await Self.patch(client, id, offset: 0, Data("0123456789abc".utf8))
            #expect(tooLong.status == .contentTooLarge)
            #expect(try await Self.serverOffset(client, id) == 10)

            let empty = try await Self.create(client, length: 0)
            let emptyFile = try await Self.file(client, empty)
            #expect(emptyFile.isUploaded)
            #expect(emptyFile.md5 == Data().md5Hex)
        }
    }

    @Test func anotherUsersUploadIsNotFound() async throws {
        try await FilesTestApp.run { client, _ in
            let id = try await Self.create(client, length: 10)
            let head = try await client.execute(uri: "/bob/api/v2/files/uploads/\(id)", method: .head, headers: Self.headers(Users.bob))
            #expect(head.status == .notFound)
            let patch = try await Self.patch(client, id, offset: 0, Data("x".utf8), user: Users.bob, path: "/bob/api/v2/files/uploads/")
            #expect(patch.status == .notFound)
            let delete = try await client.execute(uri: "/bob/api/v2/files/uploads/\(id)", method: .delete, headers: Self.headers(Users.bob))
            #expect(delete.status == .notFound)
            #expect(try await Self.serverOffset(client, id) == 0)
        }
    }
}
