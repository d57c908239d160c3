import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SimforgeModels
import SimforgeTestSupport
import Testing
@testable import FilesService

/// Listing, reading, renaming, deleting, ranges and lines, each only for the owner.
@Suite struct FileRoutesTests {
    static func file(_ response: TestResponse) throws -> File {
        try JSONDecoder.simforge().decode(File.self, from: Data(buffer: response.body))
    }

    @Test func listSearchesAndFiltersTheOwnersFilesNewestFirst() async throws {
        try await FilesTestApp.run { client, _ in
            let first = try Self.file(try await client.upload(Data("a".utf8), filename: "wing.stl"))
            let second = try Self.file(try await client.upload(Data("b".utf8), filename: "Wing-tail.stl") { $0.addField("typeId", "2") })
            _ = try await client.upload(Data("c".utf8), filename: "bob.txt", as: Users.bob, path: "/bob/api/v2/files/contents/")

            let all = try JSONDecoder.simforge().decode(Page<File>.self, from: Data(buffer:
                try await client.execute(uri: "/alice/api/v2/files/", method: .get, headers: Users.alice).body))
            #expect(all.results.map(\.id) == [second.id, first.id])
            let search = try JSONDecoder.simforge().decode(Page<File>.self, from: Data(buffer:
                try await client.execute(uri: "/alice/api/v2/files/?search=WING-", method: .get, headers: Users.alice).body))
            #expect(search.results.map(\.id) == [second.id])
            let typed = try JSONDecoder.simforge().decode(Page<File>.self, from: Data(buffer:
                try await client.execute(uri: "/alice/api/v2/files/?typeId=1", method: .get, headers: Users.alice).body))
            #expect(typed.results.map(\.id) == [first.id])
            let paged = try JSONDecoder.simforge().decode(Page<File>.self, from: Data(buffer:
                try await client.execute(uri: "/alice/api/v2/files/?page_size=1", method: .get, headers: Users.alice).body))
            #expect(paged.count == 2)
            #expect(paged.next?.hasSuffix("/alice/api/v2/files/?page_size=1&page=2") == true)
        }
    }

    @Test func patchRenamesAndRetypesAndValidates() async throws {
        try await FilesTestApp.run { client, _ in
            let file = try Self.file(try await client.upload(Data("a".utf8), filename: "old.txt"))
            let uri = "/alice/api/v2/files/\(file.id)/"
            var headers = Users.alice
            headers[.contentType] = "application/json"
            let patched = try await client.execute(uri: uri, method: .patch, headers: headers, body: ByteBuffer(string: #"{"name":"new.txt","typeId":3,"unknown":1}"#))
            #expect(patched.status == .ok)
            let renamed = try Self.file(patched)
            #expect(renamed.name == "new.txt")
            #expect(renamed.typeId == 3)
            #expect(renamed.relativePath == "new.txt")

            let invalid = try await client.execute(uri: uri, method: .patch, headers: headers, body: ByteBuffer(string: #"{"name":"a/b","typeId":99}"#))
            #expect(invalid.status == .badRequest)
            let errors = String(buffer: invalid.body)
            #expect(errors.contains("name") && errors.contains("typeId"))
            let wrongType = try await client.execute(uri: uri, method: .patch, headers: headers, body: ByteBuffer(string: #"{"typeId":"three"}"#))
            #expect(String(buffer: wrongType.body) == #"{"typeId":["A valid integer is required."]}"#)
            let notJSON = try await client.execute(uri: uri, method: .patch, headers: headers, body: ByteBuffer(string: "name=x"))
            #expect(notJSON.status == .badRequest)
            #expect(String(buffer: notJSON.body).contains("JSON parse error"))
            // Nothing changed by the failed requests.
            #expect(try Self.file(try await client.execute(uri: uri, method: .get, headers: Users.alice)).name == "new.txt")
        }
    }

    @Test func deleteRemovesRowAndBlob() async throws {
        try await FilesTestApp.run { client, app in
            let file = try Self.file(try await client.upload(Data.random(count: 1000)))
            #expect(app.storedFiles().count == 1)
            let deleted = try await client.execute(uri: "/alice/api/v2/files/\(file.id)/", method: .delete, headers: Users.alice)
            #expect(deleted.status == .noContent)
            #expect(app.storedFiles().isEmpty)
            #expect(try await app.rowCount() == 0)
            let again = try await client.execute(uri: "/alice/api/v2/files/\(file.id)/", method: .delete, headers: Users.alice)
            #expect(again.status == .notFound)
        }
    }

    @Test func anotherUsersFileIsNotFoundOnEveryRoute() async throws {
        try await FilesTestApp.run { client, app in
            let file = try Self.file(try await client.upload(Data("private\n".utf8), filename: "a.txt"))
            var json = Users.bob
            json[.contentType] = "application/json"
            for (method, suffix) in [(HTTPRequest.Method.get, ""), (.get, "contents/"), (.get, "lines/"), (.delete, ""), (.patch, "")] {
                let response = try await client.execute(
                    uri: "/bob/api/v2/files/\(file.id)/\(suffix)", method: method, headers: json,
                    body: method == .patch ? ByteBuffer(string: #"{"name":"mine.txt"}"#) : nil)
                #expect(response.status == .notFound, "\(method) \(suffix)")
            }
            let list = try JSONDecoder.simforge().decode(Page<File>.self, from: Data(buffer:
                try await client.execute(uri: "/bob/api/v2/files/", method: .get, headers: Users.bob).body))
            #expect(list.count == 0)
            #expect(try await app.rowCount() == 1)
            #expect(try Self.file(try await client.execute(uri: "/alice/api/v2/files/\(file.id)/", method: .get, headers: Users.alice)).name == "a.txt")
        }
    }

    @Test func rangeRequests() async throws {
        try await FilesTestApp.run { client, _ in
            let content = Data.random(count: 200_000)
            let file = try Self.file(try await client.upload(content))
            let empty = try Self.file(try await client.upload(Data(), filename: "empty.txt"))
            let uri = "/alice/api/v2/files/\(file.id)/contents/"
            func get(_ range: String, _ target: String? = nil) async throws -> TestResponse {
                var headers = Users.alice
                headers[.range] = range
                return try await client.execute(uri: target ?? uri, method: .get, headers: headers)
            }
            let cases: [(String, Range<Int>)] = [
                ("bytes=0-0", 0..<1), ("bytes=-1", 199_999..<200_000), ("bytes=65530-65545", 65530..<65546),
                ("bytes=199990-", 199_990..<200_000), ("bytes=100-999999", 100..<200_000), ("bytes=-500000", 0..<200_000),
            ]
            for (header, expected) in cases {
                let response = try await get(header)
                #expect(response.status == .partialContent, "\(header)")
                #expect(Data(buffer: response.body) == content[expected], "\(header)")
                #expect(response.headers[.contentRange] == "bytes \(expected.lowerBound)-\(expected.upperBound - 1)/200000")
            }
            let beyond = try await get("bytes=200000-")
            #expect(beyond.status == .rangeNotSatisfiable)
            #expect(beyond.headers[.contentRange] == "bytes */200000")
            #expect(try await get("bytes=0-", "/alice/api/v2/files/\(empty.id)/contents/").status == .rangeNotSatisfiable)
            for ignored in ["bytes=0-1,5-6", "bytes=9-3", "items=0-1"] {
                let whole = try await get(ignored)
                #expect(whole.status == .ok, "\(ignored)")
                #expect(whole.body.readableBytes == 200_000)
            }
        }
    }

    @Test func tamperedBlobIsNeverServedAsGoodData() async throws {
        try await FilesTestApp.run { client, app in
            let content = Data.random(count: 300_000)
            let file = try Self.file(try await client.upload(content))
            let blob = try #require(app.storedFiles().first)
            var bytes = try Data(contentsOf: blob)
            bytes[bytes.count - 100] ^= 0xFF
            try bytes.write(to: blob)
            let response = try? await client.execute(uri: "/alice/api/v2/files/\(file.id)/contents/", method: .get, headers: Users.alice)
            // The response is cut short: never the full, unverified content.
            #expect(response.map { Data(buffer: $0.body) != content } ?? true)
            #expect((response?.body.readableBytes ?? 0) < content.count)
        }
    }

    @Test func linesListsAllOrTheLastN() async throws {
        try await FilesTestApp.run { client, _ in
            let lines = (1...120_000).map { "step \($0): residual é \($0 % 7)" }
            let text = lines.joined(separator: "\n") + "\n"
            let file = try Self.file(try await client.upload(Data(text.utf8), filename: "log.txt"))
            let last = try await client.execute(uri: "/alice/api/v2/files/\(file.id)/lines/?lines=3", method: .get, headers: Users.alice)
            let decoded = try JSONDecoder().decode([String: [String]].self, from: Data(buffer: last.body))
            #expect(decoded["lines"] == Array(lines.suffix(3)))
            let many = try JSONDecoder().decode([String: [String]].self, from: Data(buffer:
                try await client.execute(uri: "/alice/api/v2/files/\(file.id)/lines/?lines=20000", method: .get, headers: Users.alice).body))
            #expect(many["lines"] == Array(lines.suffix(20000)))

            let small = try Self.file(try await client.upload(Data("a\r\nb\n\nc".utf8), filename: "s.txt"))
            let all = try JSONDecoder().decode([String: [String]].self, from: Data(buffer:
                try await client.execute(uri: "/alice/api/v2/files/\(small.id)/lines/", method: .get, headers: Users.alice).body))
            #expect(all["lines"] == ["a", "b", "", "c"])

            let binary = try Self.file(try await client.upload(Data([0xFF, 0xFE, 0x00, 0x81])))
            let refused = try await client.execute(uri: "/alice/api/v2/files/\(binary.id)/lines/", method: .get, headers: Users.alice)
            #expect(refused.status == .badRequest)
        }
    }
}
