import Foundation
import NIOCore
import Testing
@testable import FilesService

@Suite struct MultipartParserTests {
    struct Parsed: Equatable {
        var heads: [MultipartParser.PartHead] = []
        var bodies: [Data] = []
    }

    /// Feeds `body` in pieces of the given sizes (cycled).
    static func parse(_ body: Data, boundary: String, pieces: [Int]) throws -> Parsed {
        var parser = MultipartParser(boundary: boundary)
        var parsed = Parsed()
        var offset = 0
        var turn = 0
        while offset < body.count {
            let size = Swift.min(pieces[turn % pieces.count], body.count - offset)
            turn += 1
            try parser.feed(ByteBuffer(data: body[offset..<offset + size])) { event in
                switch event {
                case .partStart(let head):
                    parsed.heads.append(head)
                    parsed.bodies.append(Data())
                case .body(let bytes):
                    parsed.bodies[parsed.bodies.count - 1] += Data(bytes)
                case .partEnd:
                    break
                }
            }
            offset += size
        }
        try parser.finish()
        return parsed
    }

    static let boundary = "XyZ-123"
    static func sample(_ content: Data) -> Data {
        Data("preamble to ignore\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"typeId\"\r\n\r\n3\r\n".utf8)
            + Data("--\(boundary)   \r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\dir\\\\a \\\"b\\\".txt\"\r\nType_ID: 2\r\n\r\n".utf8)
            + content + Data("\r\n--\(boundary)--\r\nepilogue\r\n".utf8)
    }

    @Test(arguments: [[1], [2, 3, 5], [7], [64], [4096], [1_000_000]])
    func boundariesSplitAcrossReadsParseTheSame(pieces: [Int]) throws {
        let content = Data("line 1\r\n--\(Self.boundary.dropLast())X\r\n\r\n--\(Self.boundary.prefix(4))\r--\(Self.boundary)\n\r".utf8) + Data.random(count: 10_000)
        let parsed = try Self.parse(Self.sample(content), boundary: Self.boundary, pieces: pieces)
        #expect(parsed.heads.map(\.name) == ["typeId", "file"])
        #expect(parsed.bodies[0] == Data("3".utf8))
        #expect(parsed.bodies[1] == content)
        #expect(parsed.heads[1].filename == "C:\\dir\\a \"b\".txt")
        #expect(parsed.heads[1].headers["type_id"] == "2")
    }

    @Test func extendedFilenameIsDecoded() throws {
        let head = try MultipartParser.parseHead("Content-Disposition: form-data; name=\"file\"; filename=\"x.txt\"; filename*=UTF-8''r%C3%A9sultat.txt")
        #expect(head.filename == "résultat.txt")
    }

    @Test func endingBeforeTheClosingBoundaryIsMalformed() {
        let body = Data("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc".utf8)
        #expect(throws: MultipartParser.MalformedError.self) { try Self.parse(body, boundary: Self.boundary, pieces: [3]) }
    }

    @Test func hugePartHeadersAreRefused() {
        let body = Data("--\(Self.boundary)\r\nX-Junk: \(String(repeating: "a", count: 20_000))".utf8)
        #expect(throws: MultipartParser.MalformedError.self) { try Self.parse(body, boundary: Self.boundary, pieces: [1000]) }
    }

    @Test func boundaryComesFromTheContentType() {
        #expect(MultipartParser.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartParser.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\"") == "a b;c")
        #expect(MultipartParser.boundary(contentType: "application/json") == nil)
        #expect(MultipartParser.boundary(contentType: "multipart/form-data") == nil)
    }
}
