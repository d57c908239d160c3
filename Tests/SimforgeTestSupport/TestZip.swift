import Foundation
import ZIPFoundation

/// Zip archives as a user would upload them (and as an attacker would craft them).
public enum TestZip {
    public enum Entry {
        case file(String, String, permissions: UInt16 = 0o644)
        case directory(String)
        case symlink(String, target: String)
    }

    public static func make(_ entries: [Entry]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for entry in entries {
            switch entry {
            case .file(let path, let text, let permissions):
                let data = Data(text.utf8)
                try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), permissions: permissions,
                                     compressionMethod: .deflate) { (position: Int64, size: Int) in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
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
}
