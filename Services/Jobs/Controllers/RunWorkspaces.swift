import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SimforgeModels
import SimforgeServer

/// The working directories of running runs (`JOBS_WORK_DIR/<jobId>/<runId>`, where their
/// agents run the steps; on Slurm a folder every node and this service share), read for
/// `directory-contents/` and `tail/`. Everything is opened one component at a time relative
/// to its folder, never following a link, so a link (or a folder swapped for one) that a
/// command made cannot point the service at a file outside the run's directory.
struct RunWorkspaces: Sendable {
    let workDirectory: String

    static let maxTailBytes: Int64 = 16 * 1024 * 1024
    /// The most entries `directory-contents/` lists.
    static let maxEntries = 100_000

    /// One file of a working directory (the docs' `{path, resource}`, plus its size).
    struct Entry: Codable, Sendable, ResponseEncodable {
        var path: String
        var resource: String
        var size: Int64
    }

    /// The docs' answer to `?lines=N`: what kind of file it is, and its last lines.
    struct Lines: Codable, Sendable {
        var fileType: String
        var lines: [String]
    }

    func directory(of run: StoredRun) -> String {
        "\(self.workDirectory)/\(run.jobId)/\(run.id)"
    }

    /// Every regular file under the run's directory, in path order.
    func contents(of run: StoredRun, tailBase: String) throws -> [Entry] {
        let root = Glibc.open(self.directory(of: run), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        // A run that has just started may not have made its directory yet: a state, not an absence.
        guard root >= 0 else { throw APIError(.conflict, detail: "The run's working directory is not there yet.") }
        var entries: [Entry] = []
        Self.walk(root, prefix: "", into: &entries, tailBase: tailBase)
        return entries.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    /// The last `count` lines of a text file of the run.
    func lines(of run: StoredRun, path: String, last count: Int) async throws -> Lines {
        let descriptor = try self.open(path, of: run)
        defer { close(descriptor) }
        let size = try Self.size(of: descriptor)
        let head = Self.read(descriptor, 0..<min(size, 64 * 1024))
        let lines = try await TextTail.lines(size: size, last: count, maxBytes: Self.maxTailBytes) { Self.read(descriptor, $0) }
        return Lines(fileType: Self.fileType(of: head), lines: lines)
    }

    /// The file's bytes, streamed as it is now.
    func contents(of run: StoredRun, path: String) throws -> Response {
        let descriptor = try self.open(path, of: run)
        let size: Int64
        do {
            size = try Self.size(of: descriptor)
        } catch {
            close(descriptor)
            throw error
        }
        let body = ResponseBody(contentLength: Int(size)) { writer in
            defer { close(descriptor) }
            var offset: Int64 = 0
            while offset < size {
                let chunk = Self.read(descriptor, offset..<min(size, offset + 256 * 1024))
                guard !chunk.isEmpty else { break }
                try await writer.write(ByteBuffer(bytes: chunk))
                offset += Int64(chunk.count)
            }
            // The file shrank while it was sent: the length promised must still be met.
            if offset < size { try await writer.write(ByteBuffer(repeating: 0, count: Int(size - offset))) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
    }

    // MARK: - Helpers

    /// A read descriptor for a regular file at `path` in the run's directory.
    private func open(_ path: String, of run: StoredRun) throws -> Int32 {
        let notFound = APIError.notFound("No such file in the run's working directory.")
        guard let relativePath = RelativePath.normalized(path) else { throw notFound }
        var directory = Glibc.open(self.directory(of: run), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else { throw notFound }
        let components = relativePath.split(separator: "/").map(String.init)
        for (index, component) in components.enumerated() {
            let last = index == components.count - 1
            // O_NONBLOCK: a FIFO the command made must not hang the request.
            let next = openat(directory, component, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY))
            close(directory)
            guard next >= 0 else { throw notFound }
            directory = next
        }
        var info = stat()
        guard fstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(directory)
            throw notFound
        }
        return directory
    }

    private static func size(of descriptor: Int32) throws -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw APIError.notFound("No such file in the run's working directory.") }
        return Int64(info.st_size)
    }

    private static func read(_ descriptor: Int32, _ range: Range<Int64>) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        let read = pread(descriptor, &bytes, bytes.count, off_t(range.lowerBound))
        return Array(bytes.prefix(max(0, read)))
    }

    /// Lists `directory` (an open descriptor, closed here) into `entries`, depth first.
    private static func walk(_ directory: Int32, prefix: String, into entries: inout [Entry], tailBase: String) {
        guard let stream = fdopendir(directory) else {
            close(directory)
            return
        }
        defer { closedir(stream) }
        while entries.count < Self.maxEntries, let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != "." && name != ".." else { continue }
            var info = stat()
            guard fstatat(dirfd(stream), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let path = prefix + name
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                let resource = tailBase + path.split(separator: "/").map {
                    String($0).addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? ""
                }.joined(separator: "/")
                entries.append(Entry(path: path, resource: resource, size: Int64(info.st_size)))
            case S_IFDIR:
                let child = openat(dirfd(stream), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 { Self.walk(child, prefix: path + "/", into: &entries, tailBase: tailBase) }
            default:
                continue
            }
        }
    }

    /// What `file` would say of the start of a file, without naming it: text or data.
    static func fileType(of head: [UInt8]) -> String {
        if head.isEmpty { return "empty" }
        guard !head.contains(0), let text = String(validating: head.prefix(head.count - Self.cutContinuationBytes(head)), as: UTF8.self)
        else { return "data" }
        return text.utf8.allSatisfy { $0 < 0x80 } ? "ASCII text" : "UTF-8 Unicode text"
    }

    /// How many bytes at the end of `bytes` begin a UTF-8 character the read cut off.
    private static func cutContinuationBytes(_ bytes: [UInt8]) -> Int {
        var count = 0
        for byte in bytes.reversed().prefix(3) {
            if byte & 0xC0 == 0x80 {
                count += 1
                continue
            }
            if byte & 0xC0 == 0xC0 { return count + 1 }
            return 0
        }
        return 0
    }
}
