import Foundation
import SimforgeModels
import ZIPFoundation

/// The job's working directory: inputs fetched and unpacked into it, the command run in
/// it, and what the command created or changed collected from it afterwards.
struct Workspace {
    let directory: String

    /// Why a step failed, in words for the job's status reason.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    /// A fresh, empty `<root>/<jobId>` (an earlier attempt's leftovers are removed).
    static func create(root: String, jobId: String) throws -> Workspace {
        let directory = URL(fileURLWithPath: root).appendingPathComponent(jobId).path
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return Workspace(directory: directory)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// Downloads each input under its name, and unpacks `.zip` inputs unless `decompress` is off.
    func fetch(_ inputs: [Job.InputFile], client: AgentClient) async throws {
        var seen = Set<String>()
        for input in inputs {
            let name = input.file?.name ?? input.id
            guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", seen.insert(name).inserted else {
                throw Refusal(description: "input file name '\(name)' cannot be used in the working directory")
            }
            let path = self.directory + "/" + name
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw Refusal(description: "input file '\(name)' cannot be written") }
            do {
                defer { close(descriptor) }
                try await client.download(fileId: input.id, into: descriptor)
            } catch {
                throw Refusal(description: "input file '\(name)' could not be fetched (\(error))")
            }
            if input.decompress && name.lowercased().hasSuffix(".zip") {
                try self.unpack(zip: path, name: name)
            }
        }
    }

    /// Unpacks a zip into the working directory. Every entry is checked before anything is
    /// written: an absolute path, a `..` component or a link refuses the whole archive.
    func unpack(zip path: String, name: String) throws {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw Refusal(description: "input file '\(name)' is not a valid zip archive")
        }
        var entries: [(entry: Entry, relativePath: String)] = []
        for entry in archive {
            guard entry.type != .symlink else {
                throw Refusal(description: "input file '\(name)' holds a link (\(entry.path)); links are refused")
            }
            guard let relativePath = Self.containedPath(entry.path) else {
                throw Refusal(description: "input file '\(name)' has an entry that would land outside the working directory (\(entry.path))")
            }
            entries.append((entry, relativePath))
        }
        do {
            for (entry, relativePath) in entries {
                let destination = self.directory + "/" + relativePath
                if entry.type == .directory {
                    try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
                    continue
                }
                try FileManager.default.createDirectory(
                    atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                let permissions = ((entry.fileAttributes[.posixPermissions] as? NSNumber)?.uint16Value ?? 0o644) & 0o777 | 0o600
                let descriptor = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(permissions))
                guard descriptor >= 0 else { throw Refusal(description: "entry \(entry.path) cannot be written") }
                defer { close(descriptor) }
                _ = try archive.extract(entry) { data in
                    try data.withUnsafeBytes { try FileIO.writeAll($0, to: descriptor) }
                }
            }
        } catch let refusal as Refusal {
            throw Refusal(description: "input file '\(name)' could not be unpacked: \(refusal)")
        } catch {
            throw Refusal(description: "input file '\(name)' could not be unpacked (\(error))")
        }
    }

    /// A zip entry's path as a relative path inside the directory, or `nil` when it would
    /// leave it (absolute, `..`; a backslash path, which a Windows zip means as folders).
    static func containedPath(_ path: String) -> String? {
        path.contains("\\") ? nil : RelativePath.normalized(path)
    }

    /// Gives the working directory and everything in it to `uid`/`gid`.
    func handOver(uid: uid_t, gid: gid_t) throws {
        try self.walk { path, _ in
            guard lchown(path, uid, gid) == 0 else { throw Refusal(description: "cannot hand the working directory over") }
        }
        guard lchown(self.directory, uid, gid) == 0 else { throw Refusal(description: "cannot hand the working directory over") }
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
