#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Foundation
import NIOCore

/// A folder as a zip archive produced while it is sent. Entries are stored (not
/// compressed), so the archive's length is known from the files' sizes before reading
/// them, as tus needs; each file's CRC-32 follows its data in a data descriptor, so every
/// file is read once. Entries come in sorted order with the folder's name as prefix
/// (`cavity/system/controlDict`), like `python3 -m zipfile -c cavity.zip cavity`: the same
/// folder always gives the same bytes, which a resumed upload relies on.
/// Plain zip (not zip64): at most 4 GiB and 65 535 entries.
final class ZipStream: ChunkProducer {
    struct Entry: Sendable {
        let name: [UInt8]
        let path: String
        let isDirectory: Bool
        let size: Int64
        let mode: UInt32
        let modified: Int64
        let offset: Int64
    }

    /// Where every entry goes, computed from the folder's listing alone.
    struct Layout: Sendable {
        let entries: [Entry]
        let centralOffset: Int64
        let length: Int64
        /// SHA-256 of every entry's name, size and mtime.
        let fingerprint: String

        init(folder: URL) throws {
            var listing: [(name: String, path: String, info: stat)] = []
            try Self.walk(folder.path, name: folder.lastPathComponent + "/", into: &listing)
            var entries: [Entry] = []
            var offset: Int64 = 0
            var hash = SHA256()
            for item in listing {
                let isDirectory = item.info.st_mode & S_IFMT == S_IFDIR
                let size = isDirectory ? 0 : Int64(item.info.st_size)
                let modified = UploadSource.modified(item.info)
                entries.append(Entry(name: Array(item.name.utf8), path: item.path, isDirectory: isDirectory, size: size,
                                     mode: UInt32(item.info.st_mode), modified: modified, offset: offset))
                offset += 30 + Int64(item.name.utf8.count) + size + (isDirectory ? 0 : 16)
                hash.update(data: Data("\(item.name)\u{0}\(size)\u{0}\(modified)\n".utf8))
            }
            self.entries = entries
            self.centralOffset = offset
            self.length = offset + entries.reduce(0) { $0 + 46 + Int64($1.name.count) } + 22
            self.fingerprint = hash.finalize().map { String(format: "%02x", $0) }.joined()
            guard self.length < Int64(UInt32.max), entries.count < Int(UInt16.max) else {
                throw CLIError(message: "\(folder.path): too large to zip on the fly (over 4 GiB or 65535 entries); zip it and upload the zip",
                               exitCode: CLIError.noInput)
            }
        }

        /// Directories (as entries of their own, so empty ones survive) and regular files,
        /// sorted; links to files count as files, anything else is skipped with a warning.
        private static func walk(_ path: String, name: String, into listing: inout [(name: String, path: String, info: stat)]) throws {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw CLIError(message: "\(path): \(String(cString: strerror(errno)))", exitCode: CLIError.noInput)
            }
            listing.append((name, path, info))
            let children: [String]
            do {
                children = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            } catch {
                throw CLIError(message: "\(path): cannot list the folder", exitCode: CLIError.noInput)
            }
            for child in children {
                let childPath = path + "/" + child
                var linkInfo = stat()
                var childInfo = stat()
                guard lstat(childPath, &linkInfo) == 0, stat(childPath, &childInfo) == 0 else {
                    FileHandle.standardError.write(Data("simforge: skipping \(childPath): unreadable or a broken link\n".utf8))
                    continue
                }
                switch childInfo.st_mode & S_IFMT {
                case S_IFDIR where linkInfo.st_mode & S_IFMT == S_IFDIR:
                    try Self.walk(childPath, name: name + child + "/", into: &listing)
                case S_IFREG:
                    listing.append((name + child, childPath, childInfo))
                default:
                    FileHandle.standardError.write(Data("simforge: skipping \(childPath): not a file or a folder\n".utf8))
                }
            }
        }
    }

    private let layout: Layout
    private var index = 0
    private var file: FileChunks?
    private var written: Int64 = 0
    private var crc = CRC32()
    private var crcs: [UInt32] = []
    private var finished = false

    init(layout: Layout) throws {
        self.layout = layout
    }

    func next() throws -> ByteBuffer? {
        if let file = self.file {
            let entry = self.layout.entries[self.index - 1]
            if let chunk = try file.next() {
                self.written += Int64(chunk.readableBytes)
                guard self.written <= entry.size else { throw Self.changed(entry) }
                chunk.withUnsafeReadableBytes { self.crc.update($0) }
                return chunk
            }
            guard self.written == entry.size else { throw Self.changed(entry) }
            self.file = nil
            self.crcs.append(self.crc.value)
            var descriptor = ByteBuffer()
            descriptor.writeInteger(UInt32(0x0807_4b50), endianness: .little)
            descriptor.writeInteger(self.crc.value, endianness: .little)
            descriptor.writeInteger(UInt32(entry.size), endianness: .little)
            descriptor.writeInteger(UInt32(entry.size), endianness: .little)
            return descriptor
        }
        if self.index < self.layout.entries.count {
            let entry = self.layout.entries[self.index]
            self.index += 1
            var header = ByteBuffer()
            Self.writeHeader(of: entry, crc: 0, central: false, into: &header)
            if entry.isDirectory {
                self.crcs.append(0)
            } else {
                self.file = try FileChunks(path: entry.path)
                self.written = 0
                self.crc = CRC32()
            }
            return header
        }
        guard !self.finished else { return nil }
        self.finished = true
        return self.centralDirectory()
    }

    private func centralDirectory() -> ByteBuffer {
        var buffer = ByteBuffer()
        for (entry, crc) in zip(self.layout.entries, self.crcs) {
            Self.writeHeader(of: entry, crc: crc, central: true, into: &buffer)
        }
        let size = UInt32(self.layout.length - 22 - self.layout.centralOffset)
        buffer.writeInteger(UInt32(0x0605_4b50), endianness: .little)  // end of central directory
        buffer.writeInteger(UInt32(0), endianness: .little)  // this disk, the disk with the directory
        buffer.writeInteger(UInt16(self.layout.entries.count), endianness: .little)
        buffer.writeInteger(UInt16(self.layout.entries.count), endianness: .little)
        buffer.writeInteger(size, endianness: .little)
        buffer.writeInteger(UInt32(self.layout.centralOffset), endianness: .little)
        buffer.writeInteger(UInt16(0), endianness: .little)  // comment length
        return buffer
    }

    /// A local file header (before the data) or a central directory header. Files set
    /// flag bit 3 (sizes and CRC in the descriptor after the data); all names are UTF-8 (bit 11).
    private static func writeHeader(of entry: Entry, crc: UInt32, central: Bool, into buffer: inout ByteBuffer) {
        let known = central || entry.isDirectory
        buffer.writeInteger(central ? UInt32(0x0201_4b50) : UInt32(0x0403_4b50), endianness: .little)
        if central { buffer.writeInteger(UInt16(3 << 8 | 20), endianness: .little) }  // made by: Unix, zip 2.0
        buffer.writeInteger(UInt16(20), endianness: .little)  // version needed
        buffer.writeInteger(UInt16(entry.isDirectory ? 0x0800 : 0x0808), endianness: .little)
        buffer.writeInteger(UInt16(0), endianness: .little)  // stored
        let (time, date) = Self.dosTime(entry.modified)
        buffer.writeInteger(time, endianness: .little)
        buffer.writeInteger(date, endianness: .little)
        buffer.writeInteger(known ? crc : 0, endianness: .little)
        buffer.writeInteger(known ? UInt32(entry.size) : 0, endianness: .little)
        buffer.writeInteger(known ? UInt32(entry.size) : 0, endianness: .little)
        buffer.writeInteger(UInt16(entry.name.count), endianness: .little)
        buffer.writeInteger(UInt16(0), endianness: .little)  // extra field length
        if central {
            buffer.writeInteger(UInt16(0), endianness: .little)  // comment length
            buffer.writeInteger(UInt16(0), endianness: .little)  // disk number
            buffer.writeInteger(UInt16(0), endianness: .little)  // internal attributes
            buffer.writeInteger((entry.mode & 0xFFFF) << 16 | (entry.isDirectory ? 0x10 : 0), endianness: .little)
            buffer.writeInteger(UInt32(entry.offset), endianness: .little)
        }
        buffer.writeBytes(entry.name)
    }

    /// MS-DOS time and date of a modification time (local time, 2-second steps, from 1980).
    private static func dosTime(_ nanoseconds: Int64) -> (UInt16, UInt16) {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        guard parts.tm_year >= 80 else { return (0, 1 << 5 | 1) }
        let time = UInt16(parts.tm_hour) << 11 | UInt16(parts.tm_min) << 5 | UInt16(parts.tm_sec / 2)
        let date = UInt16(parts.tm_year - 80) << 9 | UInt16(parts.tm_mon + 1) << 5 | UInt16(parts.tm_mday)
        return (time, date)
    }

    private static func changed(_ entry: Entry) -> CLIError {
        CLIError(message: "\(entry.path) changed while it was being zipped; upload again", exitCode: CLIError.noInput)
    }
}

/// CRC-32 (the zip polynomial, reflected 0xEDB88320), a byte at a time through a table.
struct CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    private var state: UInt32 = 0xFFFF_FFFF

    var value: UInt32 { ~self.state }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        Self.table.withUnsafeBufferPointer { table in
            var crc = self.state
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
            self.state = crc
        }
    }
}
