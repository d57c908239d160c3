import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Prometheus
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import FilesService

/// The real files service on its own database and storage folder, live on loopback.
struct FilesTestApp: Sendable {
    let postgres: PostgresSettings
    let storage: URL
    let configuration: FilesConfiguration

    /// Files alone: a jobs service nobody answers at (job output listings are tested
    /// beside a real one, in JobsServiceTests).
    static let noJobsService = "http://127.0.0.1:9"

    static func keySpec() -> String {
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        return "k1:\(key)"
    }

    static func run(
        maxUploadBytes: Int64 = 100 * 1024 * 1024 * 1024,
        keys: String = FilesTestApp.keySpec(),
        http: HTTPServerConfiguration = .loopback(),
        _ body: @escaping @Sendable (any TestClientProtocol, FilesTestApp) async throws -> Void
    ) async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            let storage = FileManager.default.temporaryDirectory.appendingPathComponent("files-test-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: storage) }
            let configuration = FilesConfiguration(
                http: http, postgres: settings, storageDirectory: storage.path,
                keyring: try MasterKeyring(spec: keys), maxUploadBytes: maxUploadBytes, internalToken: "test-internal-token",
                publicAPI: TestGateway.publicAPI, jobsURL: Self.noJobsService)
            let app = try await buildApplication(configuration: configuration, logger: Logger(label: "files-test"), registry: PrometheusCollectorRegistry())
            let harness = FilesTestApp(postgres: settings, storage: storage, configuration: configuration)
            try await app.test(.live) { client in try await body(client, harness) }
        }
    }

    /// Runs a second replica (same database, storage folder and keys) while `body` runs.
    func withReplica(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = try await buildApplication(configuration: self.configuration, logger: Logger(label: "files-replica"), registry: PrometheusCollectorRegistry())
        try await app.test(.live) { client in try await body(client) }
    }

    /// Rows in files.files.
    func rowCount() async throws -> Int {
        try await TestPostgres.withClient(self.postgres) { client in
            var count = 0
            for try await value in try await client.query("SELECT count(*) FROM files.files", logger: TestPostgres.logger).decode(Int.self) {
                count = value
            }
            return count
        }
    }

    /// Every regular file under the storage folder.
    func storedFiles() -> [URL] {
        guard let walker = FileManager.default.enumerator(at: self.storage, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }
}

/// Builds multipart/form-data bodies.
struct MultipartBody {
    var boundary = "----SimforgeTest\(UInt32.random(in: 0...UInt32.max))"
    var data = Data()

    /// A part with a filename; `contentType` `nil` sends none (what python's requests does).
    mutating func addFile(_ content: Data, filename: String = "input.dat", name: String = "file",
                          contentType: String? = "application/octet-stream", extraHeaders: [String] = []) {
        var head = "--\(self.boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        for header in extraHeaders { head += header + "\r\n" }
        self.data += Data((head + "\r\n").utf8) + content + Data("\r\n".utf8)
    }

    mutating func addField(_ name: String, _ value: String) {
        self.data += Data("--\(self.boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    func finished() -> ByteBuffer {
        ByteBuffer(data: self.data + Data("--\(self.boundary)--\r\n".utf8))
    }

    var contentType: String { "multipart/form-data; boundary=\(self.boundary)" }
}

enum Users {
    static let alice: HTTPFields = TestGateway.headers(for: "alice")
    static let bob: HTTPFields = TestGateway.headers(for: "bob")
}

extension Data {
    static func random(count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            var index = 0
            while index < raw.count {
                var word = generator.next()
                let take = Swift.min(8, raw.count - index)
                Swift.withUnsafeBytes(of: &word) { raw.baseAddress!.advanced(by: index).copyMemory(from: $0.baseAddress!, byteCount: take) }
                index += take
            }
        }
        return data
    }

    var md5Hex: String {
        Insecure.MD5.hash(data: self).map { String(format: "%02x", $0) }.joined()
    }
}

extension TestClientProtocol {
    func upload(_ content: Data, filename: String = "input.dat", as user: HTTPFields = Users.alice, path: String = "/alice/api/v2/files/contents/",
                method: HTTPRequest.Method = .post, configure: (inout MultipartBody) -> Void = { _ in }) async throws -> TestResponse {
        var body = MultipartBody()
        body.addFile(content, filename: filename)
        configure(&body)
        return try await self.upload(body, as: user, path: path, method: method)
    }

    /// Sends a multipart body built by the caller.
    func upload(_ body: MultipartBody, as user: HTTPFields = Users.alice, path: String = "/alice/api/v2/files/contents/",
                method: HTTPRequest.Method = .post) async throws -> TestResponse {
        var headers = user
        headers[.contentType] = body.contentType
        return try await self.execute(uri: path, method: method, headers: headers, body: body.finished())
    }
}
