import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import FilesService

/// Uploads whose body stops arriving are ended within the idle timeout, and numbers a
/// client sends past any sense are refused: the service keeps serving.
@Suite struct SlowClientTests {
    static let http = HTTPServerConfiguration(host: "127.0.0.1", port: 0, headerTimeout: .seconds(10), bodyIdleTimeout: .seconds(1))
    static let gatewayHeaders = ["Host: 127.0.0.1", "X-Consumer-Custom-ID: alice", "X-Gateway-Secret: \(TestGateway.secret)"]

    @Test func stalledMultipartUploadIsAnswered408AndLeavesNothing() async throws {
        try await FilesTestApp.run(http: Self.http) { client, app in
            let port = try #require(client.port)
            let form = MultipartBody()
            let partHead = "--\(form.boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n"
            let head = ["POST /alice/api/v2/files/contents/ HTTP/1.1"] + Self.gatewayHeaders + [
                "Content-Type: \(form.contentType)", "Content-Length: 10000000",
            ]
            async let stalled = RawHTTP.onThread {
                try RawHTTP.sendAndStall(
                    port: port, data: Data((head.joined(separator: "\r\n") + "\r\n\r\n" + partHead).utf8) + Data.random(count: 1_500_000), limit: 15)
            }
            try await Task.sleep(for: .milliseconds(300))
            // Others are served meanwhile.
            #expect(try await client.upload(Data("meanwhile".utf8)).status == .created)
            let result = try await stalled
            #expect(result.closed)
            #expect(result.seconds < 4, "ended after \(result.seconds) s")
            #expect(result.reply.hasPrefix("HTTP/1.1 408"))
            #expect(try await app.rowCount() == 1)
            #expect(app.storedFiles().count == 1, "staged bytes left: \(app.storedFiles())")
        }
    }

    @Test func stalledTusPatchIsAnswered408AndTheUploadResumes() async throws {
        try await FilesTestApp.run(http: Self.http) { client, _ in
            let port = try #require(client.port)
            let content = Data.random(count: 2_000_000)
            let id = try await TusTests.create(client, length: content.count)
            let head = ["PATCH /alice/api/v2/files/uploads/\(id) HTTP/1.1"] + Self.gatewayHeaders + [
                "Tus-Resumable: 1.0.0", "Upload-Offset: 0", "Content-Type: application/offset+octet-stream", "Content-Length: \(content.count)",
            ]
            let request = Data((head.joined(separator: "\r\n") + "\r\n\r\n").utf8) + content.prefix(700_000)
            let result = try await RawHTTP.onThread { try RawHTTP.sendAndStall(port: port, data: request, limit: 15) }
            #expect(result.closed)
            #expect(result.seconds < 4)
            #expect(result.reply.hasPrefix("HTTP/1.1 408"))
            // What arrived is kept (tus): the lock is free again and the client resumes.
            let offset = try #require(try await TusTests.serverOffset(client, id))
            #expect(offset == 700_000)
            #expect(try await TusTests.patch(client, id, offset: offset, content[offset...]).status == .noContent)
            #expect(try await TusTests.file(client, id).md5 == content.md5Hex)
        }
    }

    @Test func absurdNumbersAreRefusedAndTheServiceKeepsServing() async throws {
        // A limit near Int64.max: the Content-Length check overflowed and trapped.
        try await FilesTestApp.run(maxUploadBytes: Int64.max) { client, _ in
            let stored = try await client.upload(Data("0123456789".utf8))
            #expect(stored.status == .created)
            let id = try JSONDecoder.simforge().decode(File.self, from: Data(buffer: stored.body)).id
            let contents = "/alice/api/v2/files/\(id)/contents/"
            for (range, status) in [
                ("bytes=99999999999999999999-", HTTPResponse.Status.ok), ("bytes=9223372036854775807-", .rangeNotSatisfiable),
                ("bytes=5-2", .ok), ("bytes=-9223372036854775807", .partialContent), ("bytes=2-9223372036854775807", .partialContent),
                ("bytes=-0", .rangeNotSatisfiable),
            ] {
                let response = try await client.execute(uri: contents, method: .get, headers: Users.alice + [HTTPField(name: .range, value: range)])
                #expect(response.status == status, "Range: \(range)")
            }
            for length in ["-1", "9223372036854775808", "1e3", "99999999999999999999999"] {
                let response = try await client.execute(
                    uri: "/alice/api/v2/files/uploads/", method: .post, headers: TusTests.headers(Users.alice, [TusTests.length: length]))
                #expect(response.status == .badRequest, "Upload-Length: \(length)")
            }
            let upload = try await TusTests.create(client, length: 10)
            for offset in ["-1", "9223372036854775808", "9223372036854775807"] {
                let response = try await client.execute(
                    uri: "/alice/api/v2/files/uploads/\(upload)", method: .patch,
                    headers: TusTests.headers(Users.alice, [TusTests.offset: offset, .contentType: "application/offset+octet-stream"]),
                    body: ByteBuffer(string: "x"))
                #expect([.badRequest, .conflict].contains(response.status), "Upload-Offset: \(offset)")
            }
            #expect(try await client.execute(uri: contents, method: .get, headers: Users.alice).status == .ok)
        }
    }
}
