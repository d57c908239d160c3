import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SimforgeModels

/// The agent's calls to jobs, files and catalog, all with its job token.
struct AgentClient: Sendable {
    let configuration: AgentConfiguration
    let http: HTTPClient
    let logger: Logger

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What the agent reports (the jobs service's events route).
    struct Event: Encodable {
        var type: String
        var runStarted: Date? = nil
        var exitCode: Int? = nil
        var reason: String? = nil
        var outputFileCount: Int? = nil
        var outputFileSize: Int64? = nil
    }

    private var jobPath: String { "/internal/jobs/\(self.configuration.jobId)" }

    func job() async throws -> Job {
        try JSONDecoder.simforge().decode(Job.self, from: try await self.get(self.configuration.jobsURL + self.jobPath))
    }

    func environment(analysis: String, version: String) async throws -> AnalysisVersionEnvironment {
        let path = "\(self.jobPath)/analyses/\(Self.escaped(analysis))/versions/\(Self.escaped(version))"
        return try JSONDecoder.simforge().decode(AnalysisVersionEnvironment.self, from: try await self.get(self.configuration.catalogURL + path))
    }

    /// Reports an event, retrying while jobs cannot be reached (for `patience`): a restart
    /// of the jobs service must not lose it. A refusal (4xx) is final.
    func report(_ event: Event, patience: Duration = .seconds(60)) async throws {
        var request = self.request(self.configuration.jobsURL + self.jobPath + "/events", method: .POST)
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = try JSONEncoder.simforge().encode(event)
        var delay = Duration.milliseconds(100)
        let deadline = ContinuousClock.now + patience
        while true {
            request.body = .bytes(ByteBuffer(data: body))
            do {
                let response = try await self.http.execute(request, timeout: .seconds(30), logger: self.logger)
                _ = try await response.body.collect(upTo: 1 << 20)
                if response.status == .ok { return }
                if (400..<500).contains(response.status.code) {
                    throw Failure(description: "jobs refused the \(event.type) event (HTTP \(response.status.code))")
                }
                self.logger.warning("event not accepted yet", metadata: ["event": "\(event.type)", "status": "\(response.status.code)"])
            } catch let failure as Failure {
                throw failure
            } catch {
                self.logger.warning("event not delivered yet", metadata: ["event": "\(event.type)", "error": "\(error)"])
            }
            guard ContinuousClock.now < deadline else { throw Failure(description: "jobs could not be reached to report \(event.type)") }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }

    /// Tells jobs the agent is alive; `true` when the job should stop (stop requested, or
    /// the job ended without us).
    func heartbeat() async -> Bool {
        let request = self.request(self.configuration.jobsURL + self.jobPath + "/heartbeat", method: .POST)
        do {
            let response = try await self.http.execute(request, timeout: .seconds(10), logger: self.logger)
            let body = try await response.body.collect(upTo: 1 << 16)
            if response.status == .notFound { return true }
            struct Answer: Decodable { var stop: Bool }
            guard response.status == .ok else { return false }
            return try JSONDecoder().decode(Answer.self, from: Data(buffer: body)).stop
        } catch {
            self.logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Streams an input file's plaintext into `descriptor`.
    func download(fileId: String, into descriptor: Int32) async throws {
        let url = "\(self.configuration.filesURL)\(self.jobPath)/files/\(Self.escaped(fileId))/contents"
        let response = try await self.http.execute(self.request(url, method: .GET), timeout: .hours(24), logger: self.logger)
        guard response.status == .ok else {
            _ = try? await response.body.collect(upTo: 1 << 16)
            throw Failure(description: "HTTP \(response.status.code)")
        }
        for try await buffer in response.body {
            try buffer.withUnsafeReadableBytes { try FileIO.writeAll($0, to: descriptor) }
        }
    }

    /// Stores a file of the working directory as an output of run 1; returns its size.
    func upload(path: String, relativePath: String) async throws -> Int64 {
        let reader = try FileChunks(path: path)
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "runId", value: "1"), URLQueryItem(name: "relativePath", value: relativePath)]
        var request = self.request(
            "\(self.configuration.filesURL)\(self.jobPath)/outputs?\(components.percentEncodedQuery ?? "")", method: .POST)
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .stream(reader, length: .known(reader.size))
        let response = try await self.http.execute(request, timeout: .hours(24), logger: self.logger)
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .created else { throw Failure(description: "HTTP \(response.status.code)") }
        return reader.size
    }

    private func get(_ url: String) async throws -> Data {
        let response = try await self.http.execute(self.request(url, method: .GET), timeout: .seconds(30), logger: self.logger)
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else { throw Failure(description: "HTTP \(response.status.code)") }
        return Data(buffer: body)
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
