import Foundation
import SimforgeModels
import ZIPFoundation

/// The archive formats inputs are unpacked from, by name.
enum ArchiveFormat {
    case zip, tar, tarGzip

    init?(name: String) {
        let name = name.lowercased()
        if name.hasSuffix(".zip") {
            self = .zip
        } else if name.hasSuffix(".tar.gz") || name.hasSuffix(".tgz") {
            self = .tarGzip
        } else if name.hasSuffix(".tar") {
            self = .tar
        } else {
            return nil
        }
    }
}

/// How many bytes a run's inputs may still unpack to: the site's limit or the free space
/// of the working directory's disk, whichever is smaller, shared by all its archives.
final class UnpackBudget {
    let limit: Int64
    private(set) var used: Int64 = 0

    init(limit: Int64) {
        self.limit = limit
    }

    /// The site's `limit`, capped by what `directory`'s file system has free.
    convenience init(limit: Int64, directory: String) {
        var info = statvfs()
        let free = statvfs(directory, &info) == 0 ? Int64(info.f_bavail) * Int64(info.f_frsize) : limit
        self.init(limit: min(limit, free))
    }

    /// Takes `bytes` from the budget; an archive past it fails the run before (or while)
    /// it fills the disk.
    func take(_ bytes: Int64, file: String) throws {
        guard bytes >= 0, self.used <= self.limit - bytes else {
            throw RunFailed(failure: RunFailure(.archiveTooLarge, file: file, limitBytes: self.limit), detail: "unpacking \(file) past \(self.limit) bytes")
        }
        self.used += bytes
    }
}

/// Unpacks an archive into the working directory. Every entry is checked before anything is
/// written: an absolute path, a `..` component, a backslash path, a link, a device or any
/// other special file refuses the whole archive, and so does unpacking past the budget.
/// Files are created with `O_EXCL | O_NOFOLLOW`, never over what is there.
struct ArchiveUnpacker {
    let directory: String
    let budget: UnpackBudget

    func unpack(_ path: String, format: ArchiveFormat, name: String) throws {
        switch format {
        case .zip: try self.unpackZip(path, name: name)
        case .tar: try self.unpackTar(TarArchive(path: path, gzipped: false), name: name)
        case .tarGzip: try self.unpackTar(TarArchive(path: path, gzipped: true), name: name)
        }
    }

    /// An entry's path as a relative path inside the directory, or `nil` when it would
    /// leave it (absolute, `..`; a backslash path, which a Windows archive means as folders).
    static func containedPath(_ path: String) -> String? {
        path.contains("\\") ? nil : RelativePath.normalized(path)
    }

    private func refuse(_ kind: RunFailure.Kind, _ name: String, _ detail: String) -> RunFailed {
        RunFailed(failure: RunFailure(kind, file: name), detail: "\(name): \(detail)")
    }

    // MARK: - zip

    private func unpackZip(_ path: String, name: String) throws {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw self.refuse(.archiveInvalid, name, "not a zip archive")
        }
        var entries: [(entry: Entry, relativePath: String)] = []
        var declared: Int64 = 0
        for entry in archive {
            guard entry.type != .symlink else { throw self.refuse(.archiveSpecialFile, name, "link \(entry.path)") }
            guard let relativePath = Self.containedPath(entry.path) else { throw self.refuse(.archiveEscapes, name, entry.path) }
            entries.append((entry, relativePath))
            declared += Int64(clamping: entry.uncompressedSize)
        }
        try self.budget.take(declared, file: name)
        for (entry, relativePath) in entries {
            let destination = self.directory + "/" + relativePath
            if entry.type == .directory {
                try self.makeDirectory(destination, name: name)
                continue
            }
            let permissions = ((entry.fileAttributes[.posixPermissions] as? NSNumber)?.uint16Value ?? 0o644) & 0o777 | 0o600
            let descriptor = try self.create(destination, mode: mode_t(permissions), name: name)
            defer { close(descriptor) }
            var written: Int64 = 0
            do {
                _ = try archive.extract(entry) { data in
                    written += Int64(data.count)
                    // A size the archive lied about still stops at what it declared.
                    guard written <= Int64(clamping: entry.uncompressedSize) else { throw self.refuse(.archiveInvalid, name, "entry larger than declared") }
                    try data.withUnsafeBytes { try FileIO.writeAll($0, to: descriptor) }
                }
            } catch let failed as RunFailed {
                throw failed
            } catch {
                throw self.refuse(.archiveInvalid, name, "cannot extract \(entry.path): \(error)")
            }
        }
    }

    // MARK: - tar

    private func unpackTar(_ archive: TarArchive, name: String) throws {
        let entries: [TarArchive.Entry]
        do {
            entries = try archive.entries()
        } catch {
            throw self.refuse(.archiveInvalid, name, "not a tar archive (\(error))")
        }
        for entry in entries {
            if case .special(let what) = entry.kind { throw self.refuse(.archiveSpecialFile, name, "\(what) \(entry.path)") }
            guard Self.containedPath(entry.path) != nil else { throw self.refuse(.archiveEscapes, name, entry.path) }
        }
        try self.budget.take(entries.reduce(0) { $0 + $1.size }, file: name)
        do {
            try archive.read { entry, content in
                guard let relativePath = Self.containedPath(entry.path) else { throw self.refuse(.archiveEscapes, name, entry.path) }
                let destination = self.directory + "/" + relativePath
                switch entry.kind {
                case .directory:
                    try self.makeDirectory(destination, name: name)
                case .file:
                    let descriptor = try self.create(destination, mode: mode_t(entry.mode & 0o777 | 0o600), name: name)
                    defer { close(descriptor) }
                    try content { try FileIO.writeAll($0, to: descriptor) }
                case .special(let what):
                    throw self.refuse(.archiveSpecialFile, name, "\(what) \(entry.path)")
                }
            }
        } catch let failed as RunFailed {
            throw failed
        } catch {
            throw self.refuse(.archiveInvalid, name, "cannot extract: \(error)")
        }
    }

    // MARK: - Writing

    private func makeDirectory(_ path: String, name: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw self.refuse(.archiveInvalid, name, "cannot make folder \(path): \(error)")
        }
    }

    private func create(_ path: String, mode: mode_t, name: String) throws -> Int32 {
        try self.makeDirectory((path as NSString).deletingLastPathComponent, name: name)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw self.refuse(.archiveInvalid, name, "cannot create \(path): errno \(errno)") }
        return descriptor
    }
}
