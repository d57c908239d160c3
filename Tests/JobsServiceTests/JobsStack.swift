import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import SimforgeModels
import SimforgeServer
import SimforgeTestSupport
import Testing
@testable import CatalogService
@testable import FilesService
@testable import JobsService
@testable import StatusService

/// The jobs service with real catalog, files and status services beside it, all live on
/// loopback and sharing one fresh database (each in its own schema, as in production).
struct JobsStack: Sendable {
    static let token = "test-internal-token"
    let files: any TestClientProtocol
    let status: any TestClientProtocol
    let catalog: any TestClientProtocol
    let postgres: PostgresSettings

    static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }

    /// - Parameters:
    ///   - catalogURL: overrides where jobs finds the catalog (an unreachable one).
    ///   - statusURL: overrides where jobs finds the status service.
    static func run(
        catalogURL: String? = nil, statusURL: String? = nil, backend: (any ComputeBackend)? = nil,
        execution: JobsConfiguration.Execution? = nil,
        _ body: @escaping @Sendable (any TestClientProtocol, JobsStack) async throws -> Void
    ) async throws {
        try await TestPostgres.withFreshDatabase { settings async throws in
            let storage = FileManager.default.temporaryDirectory.appendingPathComponent("jobs-stack-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: storage) }
            let catalog = try await CatalogService.buildApplication(
                configuration: CatalogConfiguration(
                    http: .loopback(), postgres: settings,
                    catalogFile: RepositoryPaths.file("deploy/catalog.yml"), internalToken: Self.token, publicAPI: TestGateway.publicAPI),
                logger: Self.logger("catalog"), registry: PrometheusCollectorRegistry())
            // Files asks jobs whether a job exists, and jobs needs files' address: files reaches jobs through a relay.
            let jobsRelay = try LateBoundRelay()
            let keys = "k1:" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
            let files = try await FilesService.buildApplication(
                configuration: FilesConfiguration(
                    http: .loopback(), postgres: settings, storageDirectory: storage.path,
                    keyring: try MasterKeyring(spec: keys), maxUploadBytes: 1 << 30, internalToken: Self.token,
                    publicAPI: TestGateway.publicAPI, jobsURL: jobsRelay.url),
                logger: Self.logger("files"), registry: PrometheusCollectorRegistry())
            let status = try await StatusService.buildApplication(
                configuration: StatusConfiguration(
                    http: .loopback(), postgres: settings, internalToken: Self.token, publicAPI: TestGateway.publicAPI),
                logger: Self.logger("status"), registry: PrometheusCollectorRegistry())
            try await catalog.test(.live) { catalogClient in
                try await files.test(.live) { filesClient in
                    try await status.test(.live) { statusClient in
                        let jobs = try await JobsService.buildApplication(
                            configuration: JobsConfiguration(
                                http: .loopback(), postgres: settings, internalToken: Self.token,
                                publicAPI: TestGateway.publicAPI,
                                catalogURL: catalogURL ?? "http://127.0.0.1:\(catalogClient.port!)",
                                filesURL: "http://127.0.0.1:\(filesClient.port!)",
                                statusURL: statusURL ?? "http://127.0.0.1:\(statusClient.port!)", execution: execution),
                            logger: Self.logger("jobs"), registry: PrometheusCollectorRegistry(), backend: backend)
                        try await jobsRelay.serving {
                            try await jobs.test(.live) { jobsClient in
                                jobsRelay.forward(to: "http://127.0.0.1:\(jobsClient.port!)")
                                try await body(jobsClient, JobsStack(files: filesClient, status: statusClient, catalog: catalogClient, postgres: settings))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Runs a second jobs replica (same database, same services beside it, `execution`'s
    /// backend) while `body` runs; its client.
    func withJobsReplica(
        execution: JobsConfiguration.Execution?, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let jobs = try await JobsService.buildApplication(
            configuration: JobsConfiguration(
                http: .loopback(), postgres: self.postgres, internalToken: Self.token, publicAPI: TestGateway.publicAPI,
                catalogURL: "http://127.0.0.1:\(self.catalog.port!)", filesURL: "http://127.0.0.1:\(self.files.port!)",
                statusURL: "http://127.0.0.1:\(self.status.port!)", execution: execution),
            logger: Self.logger("jobs-replica"), registry: PrometheusCollectorRegistry())
        try await jobs.test(.live) { client in try await body(client) }
    }

    /// Runs a second status service on `port` (same database) while `body` runs.
    func withStatusService(port: Int, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let status = try await StatusService.buildApplication(
            configuration: StatusConfiguration(
                http: .loopback(port: port), postgres: self.postgres, internalToken: Self.token, publicAPI: TestGateway.publicAPI),
            logger: Self.logger("status-late"), registry: PrometheusCollectorRegistry())
        // Not `.test(.live)`: that picks a port of its own.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await status.runService(gracefulShutdownSignals: []) }
            try await body()
            group.cancelAll()
        }
    }

    static let alice: HTTPFields = TestGateway.headers(for: "alice") + [HTTPField(name: .contentType, value: "application/json")]
    static let bob: HTTPFields = TestGateway.headers(for: "bob") + [HTTPField(name: .contentType, value: "application/json")]

    /// Uploads an input file for alice; returns its id.
    func upload(_ text: String = "FoamFile {}\n", name: String = "cavity.zip", as user: String = "alice") async throws -> String {
        try await self.upload(Data(text.utf8), name: name, as: user)
    }

    func upload(_ data: Data, name: String, as user: String = "alice") async throws -> String {
        let boundary = "----JobsStack"
        var body = ByteBuffer(string: "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\n\r\n")
        body.writeBytes(data)
        body.writeString("\r\n--\(boundary)--\r\n")
        let response = try await self.files.execute(
            uri: "/\(user)/api/v2/files/contents/", method: .post,
            headers: TestGateway.headers(for: user) + [HTTPField(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")],
            body: body)
        return try JSONDecoder.simforge().decode(File.self, from: Data(buffer: response.body)).id
    }

    /// alice's statuses of a job, newest first (status service directly).
    func statuses(_ jobId: String) async throws -> [String] {
        let response = try await self.status.execute(uri: "/alice/api/v2/jobs/\(jobId)/statuses/", method: .get, headers: Self.alice)
        guard response.status == .ok else { return [] }
        return try JSONDecoder.simforge().decode(Page<JobStatus>.self, from: Data(buffer: response.body)).results.map(\.status)
    }

    /// alice's statuses of a job once they are `expected` (the outbox delivers them soon
    /// after the change, not before the request answers), or as they are after `seconds`.
    func statuses(_ jobId: String, reaching expected: [String], seconds: Double = 5) async throws -> [String] {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var history = try await self.statuses(jobId)
        while history != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            history = try await self.statuses(jobId)
        }
        return history
    }

    /// The API.md example job: OpenFOAM on one standard node, one input file.
    static func jobJSON(name: String = "cavity", fileId: String?, coreType: String = "standard", coresPerSlot: Int = 2,
                        slots: Int = 1, walltime: Int? = nil, analysis: String = "openfoam", version: String? = "v1912",
                        command: String = "blockMesh && icoFoam") -> String {
        var hardware: [String: Any] = ["coreType": coreType, "coresPerSlot": coresPerSlot, "slots": slots]
        if let walltime { hardware["walltime"] = walltime }
        var analysisRef: [String: Any] = ["code": analysis]
        if let version { analysisRef["version"] = version }
        let job: [String: Any] = [
            "name": name,
            "isLowPriority": false,
            "licenseSettings": ["ignored": true],  // tolerant reader
            "jobanalyses": [[
                "analysis": analysisRef,
                "command": command,
                "hardware": hardware,
                "inputFiles": fileId.map { [["id": $0]] } ?? [],
                "envVars": ["CASE": "cavity"],
            ]],
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: job), as: UTF8.self)
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }
}
