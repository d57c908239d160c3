#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Foundation
import NIOCore

/// What `upload` sends for one PATH: the file's bytes, or a folder as a zip made on the fly
/// (``ZipStream``). Its length is known before the first byte (tus needs `Upload-Length`),
/// and its bytes are the same every time for the same content, so that a cut upload can
/// resume at the server's offset; `fingerprint` names that content (path, sizes, mtimes).
struct UploadSource: Sendable {
    let name: String
    let length: Int64
    let fingerprint: String
    private let kind: Kind

    private enum Kind: Sendable {
        case file(String)
        case folder(ZipStream.Layout)
    }

    init(path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw CLIError(message: "\(path): \(String(cString: strerror(errno)))", exitCode: CLIError.noInput)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            let layout = try ZipStream.Layout(folder: url)
            self.name = url.lastPathComponent + ".zip"
            self.length = layout.length
            self.fingerprint = "folder \(url.path) " + layout.fingerprint
            self.kind = .folder(layout)
        } else {
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw CLIError(message: "\(path): not a file or a folder", exitCode: CLIError.noInput)
            }
            self.name = url.lastPathComponent
            self.length = Int64(info.st_size)
            self.fingerprint = "file \(url.path) \(info.st_size) \(Self.modified(info))"
            self.kind = .file(url.path)
        }
    }

    /// A reader from the first byte, hashing everything it reads with MD5.
    func reader() throws -> SourceReader {
        switch self.kind {
        case .file(let path): SourceReader(chunks: try FileChunks(path: path))
        case .folder(let layout): SourceReader(chunks: try ZipStream(layout: layout))
        }
    }

    /// Modification time in nanoseconds: part of what identifies a file's content.
    static func modified(_ info: stat) -> Int64 {
        #if canImport(Darwin)
        Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
        #else
        Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        #endif
    }
}

/// A producer of consecutive chunks (blocking reads of local files: short, and the only
/// work a CLI process has meanwhile).
protocol ChunkProducer: AnyObject {
    /// The next bytes; `nil` at the end.
    func next() throws -> ByteBuffer?
}

/// Reads a source from its first byte, feeding MD5 with every byte: a resumed upload still
/// hashes the part the server already has (reading it back is far faster than sending it).
/// `@unchecked Sendable`: handed to the HTTP client as a request body, then read for the
/// final hash, by one task at a time, never by two at once.
final class SourceReader: @unchecked Sendable {
    private let chunks: any ChunkProducer
    private var md5 = Insecure.MD5()
    private var pending: ByteBuffer?
    private(set) var position: Int64 = 0

    init(chunks: any ChunkProducer) {
        self.chunks = chunks
    }

    func next() throws -> ByteBuffer? {
        if let pending = self.pending.take() { return pending }
        guard let chunk = try self.chunks.next() else { return nil }
        chunk.withUnsafeReadableBytes { self.md5.update(bufferPointer: $0) }
        self.position += Int64(chunk.readableBytes)
        return chunk
    }

    /// Reads (and hashes) up to `offset` without returning those bytes.
    func skip(to offset: Int64) throws {
        var at = self.position
        while at < offset, var chunk = try self.next() {
            let start = at
            at += Int64(chunk.readableBytes)
            if at > offset {
                chunk.moveReaderIndex(forwardBy: Int(offset - start))
                self.pending = chunk
            }
        }
    }

    /// Reads the rest and returns the MD5 of all the bytes, as lowercase hex.
    func finishMD5() throws -> String {
        while try self.next() != nil {}
        return self.md5.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// A regular file in chunks of 1 MiB.
final class FileChunks: ChunkProducer {
    private let descriptor: Int32
    private let path: String

    init(path: String) throws {
        self.path = path
        self.descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard self.descriptor >= 0 else {
            throw CLIError(message: "\(path): \(String(cString: strerror(errno)))", exitCode: CLIError.noInput)
        }
    }

    deinit { close(self.descriptor) }

    func next() throws -> ByteBuffer? {
        var buffer = ByteBuffer()
        var failure: Int32 = 0
        let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) { space in
            let count = read(self.descriptor, space.baseAddress, min(space.count, 1 << 20))
            if count < 0 { failure = errno }
            return max(0, count)
        }
        guard failure == 0 else {
            throw CLIError(message: "\(self.path): \(String(cString: strerror(failure)))", exitCode: CLIError.noInput)
        }
        return count == 0 ? nil : buffer
    }
}
