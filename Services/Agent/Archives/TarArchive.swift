import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tar archive (`.tar`, or `.tar.gz`/`.tgz` read through `gzip -dc`), read as a stream of
/// 512-byte blocks: ustar and GNU headers, pax and GNU long names. ``entries()`` lists every
/// entry without writing anything (so the whole archive can be checked first);
/// ``extract(into:)`` writes the regular files' bytes as a second pass.
struct TarArchive {
    let path: String
    let gzipped: Bool

    enum Kind: Equatable {
        case file, directory
        /// Links, devices, FIFOs: never unpacked.
        case special(String)
    }

    struct Entry: Equatable {
        var path: String
        var kind: Kind
        var size: Int64
        var mode: Int
    }

    /// The archive is not a tar archive (or is cut short): why, for the agent's log.
    struct Malformed: Error, CustomStringConvertible {
        var description: String

        init(_ description: String) {
            self.description = description
        }
    }

    func entries() throws -> [Entry] {
        var entries: [Entry] = []
        try self.read { entry, _ in entries.append(entry) }
        return entries
    }

    /// Reads every entry; `body` gets its header and, for a regular file, a function that
    /// hands its bytes in chunks to a sink.
    func read(_ body: (Entry, (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Void) throws {
        let stream = try BlockStream(path: self.path, gzipped: self.gzipped)
        defer { stream.close() }
        var longName: String?
        var paxPath: String?
        var paxSize: Int64?
        while true {
            guard let header = try stream.block() else { throw Malformed("the archive ends without its end blocks") }
            if header.allSatisfy({ $0 == 0 }) { break }
            guard Self.checksumMatches(header) else { throw Malformed("a header's checksum does not match") }
            let type = header[156]
            var size = try Self.number(header[124..<136])
            let content = { (sink: (UnsafeRawBufferPointer) throws -> Void) throws in try stream.copy(size, to: sink) }
            switch type {
            case UInt8(ascii: "L"), UInt8(ascii: "x"):
                var data = [UInt8]()
                guard size <= 1 << 20 else { throw Malformed("an extended header is too long") }
                try content { data.append(contentsOf: $0) }
                if type == UInt8(ascii: "L") {
                    longName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                } else {
                    let records = Self.pax(data)
                    paxPath = records["path"] ?? paxPath
                    paxSize = records["size"].flatMap { Int64($0) } ?? paxSize
                }
                try stream.skip(padding: size)
                continue
            case UInt8(ascii: "g"), UInt8(ascii: "K"):
                try content { _ in }
                try stream.skip(padding: size)
                continue
            default:
                break
            }
            size = paxSize ?? size
            var name = Self.string(header[0..<100])
            let prefix = Self.string(header[345..<500])
            if header[257..<262].elementsEqual("ustar".utf8), !prefix.isEmpty { name = prefix + "/" + name }
            name = paxPath ?? longName ?? name
            longName = nil
            paxPath = nil
            paxSize = nil
            let kind: Kind = switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): name.hasSuffix("/") ? .directory : .file
            case UInt8(ascii: "5"): .directory
            case UInt8(ascii: "1"): .special("hard link")
            case UInt8(ascii: "2"): .special("symbolic link")
            case UInt8(ascii: "3"), UInt8(ascii: "4"): .special("device")
            case UInt8(ascii: "6"): .special("FIFO")
            default: .special("entry of type \(Character(UnicodeScalar(type)))")
            }
            let entry = Entry(path: name, kind: kind, size: kind == .file ? size : 0, mode: Int((try? Self.number(header[100..<108])) ?? 0o644))
            var consumed = false
            try body(entry) { sink in
                consumed = true
                try stream.copy(size, to: sink)
            }
            if !consumed { try stream.copy(size, to: { _ in }) }
            try stream.skip(padding: size)
        }
    }

    /// The bytes of a header field up to its first NUL.
    private static func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field, or GNU's base-256 (high bit set) for large values.
    private static func number(_ field: ArraySlice<UInt8>) throws -> Int64 {
        if let first = field.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x3F)
            for byte in field.dropFirst() {
                guard value < Int64.max >> 8 else { throw Malformed("a number does not fit") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        let text = Self.string(field).trimmingCharacters(in: CharacterSet(charactersIn: " "))
        if text.isEmpty { return 0 }
        guard let value = Int64(text, radix: 8), value >= 0 else { throw Malformed("'\(text)' is not an octal number") }
        return value
    }

    private static func checksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = try? Self.number(header[148..<156]) else { return false }
        var sum: Int64 = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : Int64(byte) }
        return sum == stored
    }

    /// `length key=value\n` records of a pax extended header.
    private static func pax(_ data: [UInt8]) -> [String: String] {
        var records: [String: String] = [:]
        var rest = data[...]
        while let space = rest.firstIndex(of: UInt8(ascii: " ")), let length = Int(String(decoding: rest[rest.startIndex..<space], as: UTF8.self)),
              length > 0, rest.count >= length {
            let record = rest[rest.index(after: space)..<(rest.startIndex + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[record.startIndex..<equals], as: UTF8.self)] =
                    String(decoding: record[record.index(after: equals)...], as: UTF8.self)
            }
            rest = rest.dropFirst(length)
        }
        return records
    }
}

/// The archive's bytes 512 at a time, from the file or from `gzip -dc` reading it.
private final class BlockStream {
    private let descriptor: Int32
    private let gzip: Process?
    private var buffer = [UInt8]()
    private var start = 0

    init(path: String, gzipped: Bool) throws {
        if gzipped {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/gzip")
            process.arguments = ["-dc", "--", path]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            try pipe.fileHandleForWriting.close()
            self.gzip = process
            self.descriptor = dup(pipe.fileHandleForReading.fileDescriptor)
        } else {
            self.gzip = nil
            self.descriptor = open(path, O_RDONLY | O_CLOEXEC)
        }
        guard self.descriptor >= 0 else { throw TarArchive.Malformed("cannot open the archive") }
    }

    func close() {
        Glibc.close(self.descriptor)
        if let gzip, gzip.isRunning { gzip.terminate() }
        self.gzip?.waitUntilExit()
    }

    /// The next 512 bytes; `nil` at the end.
    func block() throws -> [UInt8]? {
        try self.fill(512)
        guard self.buffer.count - self.start >= 512 else { return nil }
        defer { self.start += 512 }
        return Array(self.buffer[self.start..<(self.start + 512)])
    }

    /// Hands the next `count` bytes to `sink`; an archive cut short is malformed.
    func copy(_ count: Int64, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var left = count
        while left > 0 {
            try self.fill(1)
            let available = self.buffer.count - self.start
            guard available > 0 else { throw TarArchive.Malformed("the archive is cut short") }
            let take = Int(min(Int64(available), left))
            try self.buffer[self.start..<(self.start + take)].withUnsafeBytes(sink)
            self.start += take
            left -= Int64(take)
        }
    }

    /// Skips the padding after `size` bytes of content, up to the next 512-byte block.
    func skip(padding size: Int64) throws {
        let padding = (512 - size % 512) % 512
        try self.copy(padding, to: { _ in })
    }

    private func fill(_ wanted: Int) throws {
        if self.start > 1 << 20 {
            self.buffer.removeFirst(self.start)
            self.start = 0
        }
        while self.buffer.count - self.start < wanted {
            var chunk = [UInt8](repeating: 0, count: 256 * 1024)
            let count = read(self.descriptor, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            self.buffer.append(contentsOf: chunk.prefix(count))
        }
    }
}
