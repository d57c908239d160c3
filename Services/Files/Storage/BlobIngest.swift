import Crypto
import Foundation
import NIOCore

/// One file's bytes on their way in: plaintext is absorbed as it arrives, hashed (MD5)
/// and sealed segment by segment into a new blob that becomes visible only on
/// ``finish()``. Every way in (multipart upload, finished resumable upload, a job's
/// output) goes through here. Used by one task; on any failure call ``abandon()``.
final class BlobIngest {
    let fileID: String
    let blobName: String
    let dataKey: SymmetricKey
    private let limit: Int64
    private var sealer: SegmentSealer
    private let writer: BlobWriter

    struct TooLarge: Error {
        let limit: Int64
    }

    /// - Parameter dataKey: the file's key; a fresh one unless the file already has one.
    init(store: BlobStore, fileID: String, blobName: String = BlobStore.newBlobName(), dataKey: SymmetricKey = SymmetricKey(size: .bits256),
         limit: Int64) async throws {
        self.fileID = fileID
        self.blobName = blobName
        self.dataKey = dataKey
        self.limit = limit
        self.sealer = SegmentSealer(header: .random(), key: dataKey, fileID: fileID)
        self.writer = try await store.create(blobName)
    }

    var size: Int64 { self.sealer.plaintextSize }

    func absorb(_ bytes: UnsafeRawBufferPointer) throws {
        try self.sealer.absorb(bytes)
        if self.sealer.plaintextSize > self.limit { throw TooLarge(limit: self.limit) }
    }

    /// Writes sealed bytes out once enough have piled up.
    func flushIfNeeded() async throws {
        if self.sealer.shouldFlush {
            try await self.writer.write(self.sealer.takeOutput())
        }
    }

    /// Seals the last segment, syncs and links the blob; returns the plaintext's MD5.
    func finish() async throws -> String {
        let md5 = try self.sealer.finish()
        try await self.writer.write(self.sealer.takeOutput())
        try await self.writer.commit()
        return md5
    }

    func abandon() async {
        await self.writer.abandon()
    }
}
