#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Foundation
import NIOCore

/// A job's output files into a folder, as the tree of their paths: a file whose `path` is
/// `user/user_alice/output/job_X/run1/cavity/0.5/U` lands in `DIR/run1/cavity/0.5/U`.
/// Files already there with the server's size and MD5 are skipped, so a second download
/// (or one after a cut) transfers only what is missing; the others come in parallel, each
/// written to a `.part` file and renamed once its MD5 matches.
struct OutputDownload {
    let api: APIClient
    let jobId: String
    let folder: URL
    let include: [String]
    let parallel: Int

    struct Outcome {
        var downloaded = 0
        var bytes: Int64 = 0
        var complete = 0
    }

    func run() async throws -> Outcome {
        let (files, _) = try await self.api.list("jobs/\(self.jobId)/files/", as: OutputFile.self)
        var outcome = Outcome()
        var wanted: [(file: OutputFile, target: URL)] = []
        for file in files {
            let tree = try self.treePath(of: file)
            guard self.include.isEmpty || self.include.contains(where: { fnmatch($0, tree, 0) == 0 }) else { continue }
            let target = self.folder.appendingPathComponent(tree)
            if try Self.isComplete(target, file) {
                outcome.complete += 1
            } else {
                wanted.append((file, target))
            }
        }
        guard !wanted.isEmpty else { return outcome }
        let progress = ProgressDisplay(label: "job \(self.jobId)", total: wanted.reduce(0) { $0 + $1.file.decryptedSize })
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = wanted.makeIterator()
            for _ in 0..<self.parallel {
                guard let item = next.next() else { break }
                group.addTask { try await self.fetch(item.file, to: item.target, progress: progress) }
            }
            while try await group.next() != nil {
                guard let item = next.next() else { continue }
                group.addTask { try await self.fetch(item.file, to: item.target, progress: progress) }
            }
        }
        progress.finish()
        outcome.downloaded = wanted.count
        outcome.bytes = wanted.reduce(0) { $0 + $1.file.decryptedSize }
        return outcome
    }

    /// The file's place in the tree: its path after `job_{id}/` (`run1/...`), else
    /// `run/{relativePath}`. A path that would leave the folder is refused.
    func treePath(of file: OutputFile) throws -> String {
        let marker = "/job_\(self.jobId)/"
        let tree: String
        if let path = file.path, let range = path.range(of: marker) {
            tree = String(path[range.upperBound...])
        } else {
            tree = "run/" + (file.relativePath ?? file.name)
        }
        let parts = tree.split(separator: "/", omittingEmptySubsequences: false)
        guard !tree.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw CLIError(message: "output file \(file.id) has an unsafe path: \(tree)", exitCode: CLIError.unavailable)
        }
        return tree
    }

    private static func isComplete(_ target: URL, _ file: OutputFile) throws -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: target.path),
              (attributes[.size] as? NSNumber)?.int64Value == file.decryptedSize, let md5 = file.md5
        else { return false }
        let reader = try UploadSource(path: target.path).reader()
        return try reader.finishMD5() == md5.lowercased()
    }

    private func fetch(_ file: OutputFile, to target: URL, progress: ProgressDisplay) async throws {
        let response = try await self.api.execute(self.api.request(.GET, file.downloadRoute))
        let part = target.path + ".part"
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw CLIError(message: "\(target.deletingLastPathComponent().path): cannot create the folder", exitCode: CLIError.integrity)
        }
        let descriptor = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CLIError(message: "\(part): \(String(cString: strerror(errno)))", exitCode: CLIError.integrity)
        }
        var md5 = Insecure.MD5()
        var received: Int64 = 0
        do {
            defer { close(descriptor) }
            for try await chunk in response.body {
                try chunk.withUnsafeReadableBytes { bytes in
                    md5.update(bufferPointer: bytes)
                    try Self.writeAll(bytes, to: descriptor, path: part)
                }
                received += Int64(chunk.readableBytes)
                progress.add(chunk.readableBytes)
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError(message: "downloading \(target.path) failed: \(APIClient.describe(error)); download again to resume",
                           exitCode: CLIError.unavailable)
        }
        let digest = md5.finalize().map { String(format: "%02x", $0) }.joined()
        guard received == file.decryptedSize, file.md5 == nil || file.md5?.lowercased() == digest else {
            unlink(part)
            throw CLIError(message: "\(target.path): got \(received) bytes with MD5 \(digest), the server has \(file.decryptedSize) "
                           + "with MD5 \(file.md5 ?? "none")", exitCode: CLIError.integrity)
        }
        guard rename(part, target.path) == 0 else {
            throw CLIError(message: "\(target.path): \(String(cString: strerror(errno)))", exitCode: CLIError.integrity)
        }
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else {
                throw CLIError(message: "\(path): \(String(cString: strerror(errno)))", exitCode: CLIError.integrity)
            }
            offset += written
        }
    }
}
