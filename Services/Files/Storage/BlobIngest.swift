import AsyncAlgorithms
import Crypto
import Foundation
import NIOCore

/// One file's bytes on their way in: plaintext is absorbed as it arrives, hashed (MD5)
/// and sealed segment by segment into a new blob that becomes visible only on
/// ``finish()``. Every way in (multipart upload, finished resumable upload, a job's
/// output) goes through here. Used by one task; on any failure call ``abandon()``.
///
/// Three stages, so that two cores share the work: the caller's task parses and seals;
/// MD5 (the most expensive step, which cannot be split) runs on a task of its own, fed
/// each segment's plaintext; the blob writes (kernel page-cache copies, costly on this
/// kind of machine) run on a third, fed sealed bytes. The channels hand over one item at
/// a time, so memory stays bounded.
final class BlobIngest {
    let fileID: String
    let blobName: String
    let dataKey: SymmetricKey
    private let limit: Int64
    private var sealer: SegmentSealer
    private let writer: BlobWriter
    private let toHasher = AsyncChannel<[ByteBuffer]>()
    /// Segments waiting for the hasher: handed over a megabyte at a time, to switch tasks less.
    private var unhashed: [ByteBuffer] = []
    private let hasher: Task<String, Never>
    private let toWriter = AsyncChannel<ByteBuffer>()
    private let writing: Task<Void, any Error>

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
        let writer = try await store.create(blobName)
        self.writer = writer
        self.writing = Task { [toWriter] in
            var failure: (any Error)?
            for await sealed in toWriter where failure == nil {
                do { try await writer.write(sealed) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        self.hasher = Task { [toHasher] in
            var md5 = Insecure.MD5()
            for await segments in toHasher {
                for segment in segments {
                    segment.withUnsafeReadableBytes { md5.update(bufferPointer: $0) }
                }
            }
            return md5.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }

    var size: Int64 { self.sealer.plaintextSize }

    func absorb(_ bytes: UnsafeRawBufferPointer) throws {
        try self.sealer.absorb(bytes)
        if self.sealer.plaintextSize > self.limit { throw TooLarge(limit: self.limit) }
    }

    /// Hands sealed segments to the hasher and sealed bytes to the writer once enough of
    /// either have piled up.
    func flushIfNeeded() async throws {
        try await self.flush(force: false)
    }

    private func flush(force: Bool) async throws {
        self.unhashed += self.sealer.takePlaintextSegments()
        if self.unhashed.count >= 16 || (force && !self.unhashed.isEmpty) {
            await self.toHasher.send(self.unhashed)
            self.unhashed.removeAll(keepingCapacity: true)
        }
        if self.sealer.shouldFlush {
            await self.toWriter.send(self.sealer.takeOutput())
        }
    }

    /// Seals the last segment, syncs and links the blob; returns the plaintext's MD5.
    func finish() async throws -> String {
        try self.sealer.finish()
        try await self.flush(force: true)
        self.toHasher.finish()
        await self.toWriter.send(self.sealer.takeOutput())
        self.toWriter.finish()
        try await self.writing.value
        try await self.writer.commit()
        return await self.hasher.value
    }

    func abandon() async {
        self.toHasher.finish()
        self.toWriter.finish()
        _ = try? await self.writing.value
        await self.writer.abandon()
    }
}
