import Crypto
import Foundation
import Logging
import NIOCore
import NIOFileSystem

/// Encrypted blobs in a directory (a shared filesystem when services run on several
/// hosts): `blobs/<2 hex>/<uuid>`. A blob appears under its name only when complete and
/// synced; an abandoned write leaves nothing (the file is created unlinked).
struct BlobStore: Sendable {
    let root: FilePath

    init(root: String) {
        self.root = FilePath(root)
    }

    /// Creates the directory layout if needed.
    func prepare() async throws {
        try await FileSystem.shared.createDirectory(at: self.root.appending("blobs"), withIntermediateDirectories: true)
    }

    static func newBlobName() -> String {
        UUID().uuidString.lowercased()
    }

    func path(of blobName: String) -> FilePath {
        self.root.appending("blobs").appending(String(blobName.prefix(2))).appending(blobName)
    }

    /// Opens a new, still invisible blob for `blobName`.
    func create(_ blobName: String) async throws -> BlobWriter {
        let path = self.path(of: blobName)
        try await FileSystem.shared.createDirectory(at: path.removingLastComponent(), withIntermediateDirectories: true)
        let handle = try await FileSystem.shared.openFile(forWritingAt: path, options: .newFile(replaceExisting: false))
        return BlobWriter(handle: handle)
    }

    func delete(_ blobName: String) async throws {
        try await FileSystem.shared.removeItem(at: self.path(of: blobName))
    }
}

/// Writes one blob; ``commit()`` makes it visible, ``abandon()`` (or any failure) leaves nothing.
/// `@unchecked Sendable`: one task at a time uses it (``BlobIngest`` writes from its
/// writer task, then commits after that task ended).
final class BlobWriter: @unchecked Sendable {
    private let handle: WriteFileHandle
    private var offset: Int64 = 0
    private var writeback = Writeback(from: 0)
    private var closed = false

    init(handle: WriteFileHandle) {
        self.handle = handle
    }

    func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        try await self.handle.write(contentsOf: buffer.readableBytesView, toAbsoluteOffset: self.offset)
        self.offset += Int64(buffer.readableBytes)
        await self.writeback.wrote(upTo: self.offset, on: self.handle)
    }

    /// fsync (most of the file is on its way to the disk already), then link the file under its name.
    func commit() async throws {
        self.closed = true
        do {
            try await self.handle.synchronize()
        } catch {
            try? await self.handle.close(makeChangesVisible: false)
            throw error
        }
        try await self.handle.close(makeChangesVisible: true)
    }

    func abandon() async {
        guard !self.closed else { return }
        self.closed = true
        try? await self.handle.close(makeChangesVisible: false)
    }
}
