import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SimforgeFailover
import SimforgeModels

/// The agent's calls to jobs, files and catalog, all with its job token. Each service may
/// run as several replicas (``ServiceReplicas``): every call starts at the next one and
/// skips those that cannot be connected to, so an agent whose jobs replica died reports to
/// another.
struct AgentClient: Sendable {
    let configuration: AgentConfiguration
    let http: HTTPClient
    let logger: Logger

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var jobPath: String { "/internal/jobs/\(self.configuration.jobId)" }
    private var runPath: String { "\(self.jobPath)/runs/\(self.configuration.runId)" }

    func job() async throws -> Job {
        try JSONDecoder.simforge().decode(Job.self, from: try await self.get(self.jobPath, from: self.configuration.jobs))
    }

    func run() async throws -> Run {
        try JSONDecoder.simforge().decode(Run.self, from: try await self.get(self.runPath, from: self.configuration.jobs))
    }

    func environment(analysis: String, version: String) async throws -> AnalysisVersionEnvironment {
        let path = "\(self.jobPath)/analyses/\(Self.escaped(analysis))/versions/\(Self.escaped(version))"
        return try JSONDecoder.simforge().decode(AnalysisVersionEnvironment.self, from: try await self.get(path, from: self.configuration.catalog))
    }

    /// Reports an event, retrying while jobs cannot be reached (for `patience`): a restart
    /// of the jobs service must not lose it. Each try starts at the next jobs replica. A
    /// refusal (4xx) is final.
    func report(_ event: RunEvent, patience: Duration = .seconds(60)) async throws {
        let body = ByteBuffer(data: try JSONEncoder.simforge().encode(event))
        var delay = Duration.milliseconds(100)
        let deadline = ContinuousClock.now + patience
        while true {
            do {
                let (status, _) = try await self.exchange(
                    .POST, self.runPath + "/events", on: self.configuration.jobs, body: .bytes(body), contentType: "application/json",
                    timeout: .seconds(30), limit: 1 << 20)
                if status == .ok { return }
                if (400..<500).contains(status.code) {
                    throw Failure(description: "jobs refused the \(event.type.rawValue) event (HTTP \(status.code))")
                }
                self.logger.warning("event not accepted yet", metadata: ["event": "\(event.type.rawValue)", "status": "\(status.code)"])
            } catch let failure as Failure {
                throw failure
            } catch {
                self.logger.warning("event not delivered yet", metadata: ["event": "\(event.type.rawValue)", "error": "\(error)"])
            }
            guard ContinuousClock.now < deadline else { throw Failure(description: "jobs could not be reached to report \(event.type.rawValue)") }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }

    /// Tells jobs the agent is alive; `true` when the run should stop (stop requested, or
    /// the run ended without us).
    func heartbeat() async -> Bool {
        do {
            let (status, body) = try await self.exchange(
                .POST, self.runPath + "/heartbeat", on: self.configuration.jobs, timeout: .seconds(10), limit: 1 << 16)
            if status == .notFound { return true }
            struct Answer: Decodable { var stop: Bool }
            guard status == .ok else { return false }
            return try JSONDecoder().decode(Answer.self, from: Data(buffer: body)).stop
        } catch {
            self.logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Streams an input file's plaintext into `descriptor`.
    func download(fileId: String, into descriptor: Int32) async throws {
        let path = "\(self.jobPath)/files/\(Self.escaped(fileId))/contents"
        // Only the request and the answer's head fail over: once bytes are written to
        // `descriptor`, another replica's copy would be appended to them.
        let response = try await self.configuration.files.withFailover(method: .GET, logger: self.logger) { baseURL in
            try await self.http.execute(self.request(baseURL + path, method: .GET), timeout: .hours(24), logger: self.logger)
        }
        guard response.status == .ok else {
            _ = try? await response.body.collect(upTo: 1 << 16)
            throw Failure(description: "HTTP \(response.status.code)")
        }
        for try await buffer in response.body {
            try buffer.withUnsafeReadableBytes { try FileIO.writeAll($0, to: descriptor) }
        }
    }

    /// A small file's plaintext (a template), at most `limit` bytes.
    func contents(fileId: String, limit: Int) async throws -> [UInt8] {
        let path = "\(self.jobPath)/files/\(Self.escaped(fileId))/contents"
        let (status, body) = try await self.exchange(.GET, path, on: self.configuration.files, timeout: .seconds(60), limit: limit)
        guard status == .ok else { throw Failure(description: "HTTP \(status.code)") }
        return Array(buffer: body)
    }

    /// Stores a file of the working directory as an output of the run; returns its size.
    func upload(path: String, relativePath: String) async throws -> Int64 {
        let reader = try FileChunks(path: path)
        var components = URLComponents()
        components.queryItems = [
            URLQueryItem(name: "runId", value: self.configuration.runId), URLQueryItem(name: "relativePath", value: relativePath),
        ]
        let (status, _) = try await self.exchange(
            .POST, "\(self.jobPath)/outputs?\(components.percentEncodedQuery ?? "")", on: self.configuration.files,
            body: .stream(reader, length: .known(reader.size)), contentType: "application/octet-stream", timeout: .hours(24), limit: 1 << 20)
        guard status == .created else { throw Failure(description: "HTTP \(status.code)") }
        return reader.size
    }

    private func get(_ path: String, from replicas: ServiceReplicas) async throws -> Data {
        let (status, body) = try await self.exchange(.GET, path, on: replicas, timeout: .seconds(30), limit: 16 << 20)
        guard status == .ok else { throw Failure(description: "HTTP \(status.code)") }
        return Data(buffer: body)
    }

    /// One request to a service, on its replicas in turn (``ServiceReplicas/withFailover(method:logger:_:)``):
    /// the answer's status and body, at most `limit` bytes of it.
    private func exchange(
        _ method: HTTPMethod, _ path: String, on replicas: ServiceReplicas, body: HTTPClientRequest.Body? = nil, contentType: String? = nil,
        timeout: TimeAmount, limit: Int
    ) async throws -> (HTTPResponseStatus, ByteBuffer) {
        try await replicas.withFailover(method: method, logger: self.logger) { baseURL in
            var request = self.request(baseURL + path, method: method)
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = body
            let response = try await self.http.execute(request, timeout: timeout, logger: self.logger)
            return (response.status, try await response.body.collect(upTo: limit))
        }
    }

    private func request(_ url: String, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "X-Job-Token", value: self.configuration.token)
        return request
    }

    private static func escaped(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }
}

/// A file read in 1 MiB chunks, as a request body.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let size: Int64

    init(path: String) throws {
        self.path = path
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        self.size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(descriptor: open(self.path, O_RDONLY | O_CLOEXEC))
    }

    final class Iterator: AsyncIteratorProtocol {
        private var descriptor: Int32
        private var finished = false

        init(descriptor: Int32) {
            self.descriptor = descriptor
        }

        func next() async throws -> ByteBuffer? {
            guard !self.finished else { return nil }
            guard self.descriptor >= 0 else { throw AgentClient.Failure(description: "cannot open the file") }
            var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) { raw in
                Swift.max(0, read(self.descriptor, raw.baseAddress, raw.count))
            }
            if count == 0 {
                close(self.descriptor)
                self.descriptor = -1
                self.finished = true
                return nil
            }
            return buffer
        }

        deinit {
            if self.descriptor >= 0 { close(self.descriptor) }
        }
    }
}

enum FileIO {
    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw WriteError(description: String(cString: strerror(errno)))
            }
            offset += written
        }
    }
}
