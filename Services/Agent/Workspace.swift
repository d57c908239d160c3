import Foundation
import SimforgeModels

/// A step of the run failed in a way the user should hear of: what to report (`failure`,
/// worded by the jobs service) and, for the agent's own log only, what exactly happened.
struct RunFailed: Error, CustomStringConvertible {
    var failure: RunFailure
    var detail: String

    var description: String { "\(self.failure.kind.rawValue): \(self.detail)" }
}

/// A run's working directory (`<root>/<jobId>/<runId>`): inputs fetched and unpacked into
/// it, the steps run in it, and what they created or changed collected from it afterwards.
struct Workspace {
    let directory: String

    /// A fresh, empty directory for the run (an earlier attempt's leftovers are removed).
    static func create(root: String, jobId: String, runId: String) throws -> Workspace {
        let job = URL(fileURLWithPath: root).appendingPathComponent(jobId).path
        let directory = job + "/" + runId
        try? FileManager.default.removeItem(atPath: directory)
        // The job's folder only leads to its runs' folders, each its run-as user's alone.
        try FileManager.default.createDirectory(atPath: job, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        return Workspace(directory: directory)
    }

    /// Removes the run's directory, and the job's once no other run of it is left.
    func remove() {
        try? FileManager.default.removeItem(atPath: self.directory)
        rmdir((self.directory as NSString).deletingLastPathComponent)
    }

    /// A file the run needs, under the name it gets in the working directory.
    struct Input {
        var id: String
        var name: String
        /// Unpack it when it is an archive (`.zip`, `.tar`, `.tar.gz`, `.tgz`).
        var decompress: Bool
        var executable = false
    }

    /// Downloads each input under its name, and unpacks archives unless told not to;
    /// everything unpacked counts against `budget`.
    func fetch(_ inputs: [Input], client: AgentClient, budget: UnpackBudget) async throws {
        var seen = Set<String>()
        for input in inputs {
            let name = input.name
            guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", seen.insert(name).inserted else {
                throw RunFailed(failure: RunFailure(.inputNameUnusable, file: name), detail: "input name '\(name)'")
            }
            let path = self.directory + "/" + name
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, input.executable ? 0o755 : 0o644)
            guard descriptor >= 0 else {
                throw RunFailed(failure: RunFailure(.inputNameUnusable, file: name), detail: "cannot create \(path): errno \(errno)")
            }
            do {
                defer { close(descriptor) }
                try await client.download(fileId: input.id, into: descriptor)
            } catch {
                throw RunFailed(failure: RunFailure(.inputUnavailable, file: name), detail: "\(error)")
            }
            if input.decompress, let format = ArchiveFormat(name: name) {
                try ArchiveUnpacker(directory: self.directory, budget: budget).unpack(path, format: format, name: name)
            }
        }
    }

    /// Gives the working directory and everything in it to `uid`/`gid`.
    func handOver(uid: uid_t, gid: gid_t) throws {
        let refused = RunFailed(failure: RunFailure(.agentFailure), detail: "cannot hand the working directory over")
        try self.walk { path, _ in
            guard lchown(path, uid, gid) == 0 else { throw refused }
        }
        guard lchown(self.directory, uid, gid) == 0 else { throw refused }
    }

    // MARK: - What the run produced

    /// What identifies a file's content version without reading it.
    struct Stamp: Equatable {
        var size: Int64
        var modified: timespec
        var inode: UInt

        static func == (a: Stamp, b: Stamp) -> Bool {
            a.size == b.size && a.inode == b.inode && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
        }
    }

    /// Every regular file under the directory (relative path → stamp); links are not followed.
    func snapshot() throws -> [String: Stamp] {
        var stamps: [String: Stamp] = [:]
        try self.walk { path, info in
            guard info.st_mode & S_IFMT == S_IFREG else { return }
            stamps[String(path.dropFirst(self.directory.count + 1))] =
                Stamp(size: Int64(info.st_size), modified: info.st_mtim, inode: UInt(info.st_ino))
        }
        return stamps
    }

    /// Regular files created or changed since `before`, by relative path, in path order.
    func changes(since before: [String: Stamp]) throws -> [String] {
        try self.snapshot().filter { before[$0.key] != $0.value }.keys.sorted()
    }

    /// Calls `body` for everything below the directory (not following links).
    private func walk(_ body: (String, stat) throws -> Void) throws {
        var pending = [self.directory]
        while let directory = pending.popLast() {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
                let path = directory + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                try body(path, info)
                if info.st_mode & S_IFMT == S_IFDIR { pending.append(path) }
            }
        }
    }
}
