import Foundation
import SimforgeModels
import SimforgeServer

/// The last lines of a file in a running job's working directory (`JOBS_WORK_DIR/<jobId>`,
/// where its agent runs the command; on Slurm a folder every node and this service share).
/// The path is opened one component at a time without following links, so a link the
/// command made cannot point the service at a file outside the directory.
struct RunTail {
    let workDirectory: String

    static let maxBytes: Int64 = 16 * 1024 * 1024

    func lines(jobId: String, path: String, last count: Int?) async throws -> [String] {
        let notFound = APIError.notFound("No such file in the run's working directory.")
        guard let relativePath = RelativePath.normalized(path),
              let descriptor = Self.open(relativePath, under: self.workDirectory + "/" + jobId)
        else { throw notFound }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw notFound }
        return try await TextTail.lines(size: Int64(info.st_size), last: count, maxBytes: Self.maxBytes) { range in
            var bytes = [UInt8](repeating: 0, count: range.count)
            let read = pread(descriptor, &bytes, bytes.count, off_t(range.lowerBound))
            return Array(bytes.prefix(max(0, read)))
        }
    }

    /// A read descriptor for `relativePath` under `root`, no component being a link.
    private static func open(_ relativePath: String, under root: String) -> Int32? {
        var directory = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else { return nil }
        let components = relativePath.split(separator: "/").map(String.init)
        for (index, component) in components.enumerated() {
            let last = index == components.count - 1
            // O_NONBLOCK: a FIFO the command made must not hang the request.
            let flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY)
            let next = openat(directory, component, flags)
            close(directory)
            guard next >= 0 else { return nil }
            directory = next
        }
        return directory
    }
}
