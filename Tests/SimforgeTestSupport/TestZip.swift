import Foundation
import ZIPFoundation

/// Zip archives as a user would upload them (and as an attacker would craft them).
public enum TestZip {
    public enum Entry {
        case file(String, String, permissions: UInt16 = 0o644)
        case data(String, Data)
        case directory(String)
        case symlink(String, target: String)
    }

    /// Every file under `directory`, as entries under `prefix` (a folder zipped by a user).
    public static func make(directory: String, prefix: String) throws -> Data {
        let files = try FileManager.default.subpathsOfDirectory(atPath: directory).sorted().filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        return try self.make(files.map { path in
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + path))
            return .data(prefix + "/" + path, data)
        })
    }

    public static func make(_ entries: [Entry]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for entry in entries {
            switch entry {
            case .file(let path, let text, let permissions):
                try self.add(Data(text.utf8), at: path, permissions: permissions, to: archive)
            case .data(let path, let data):
                try self.add(data, at: path, permissions: 0o644, to: archive)
            case .directory(let path):
                try archive.addEntry(with: path, type: .directory, uncompressedSize: Int64(0)) { (_: Int64, _: Int) in Data() }
            case .symlink(let path, let target):
                let data = Data(target.utf8)
                try archive.addEntry(with: path, type: .symlink, uncompressedSize: Int64(data.count)) { (position: Int64, size: Int) in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
        }
        return archive.data!
    }

    private static func add(_ data: Data, at path: String, permissions: UInt16, to archive: Archive) throws {
        try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), permissions: permissions,
                             compressionMethod: .deflate) { (position: Int64, size: Int) in
            data.subdata(in: Int(position)..<Int(position) + size)
        }
    }
}
