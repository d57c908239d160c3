import AsyncAlgorithms
import Crypto
import Foundation
import NIOCore
import NIOFileSystem

/// Streams plaintext out of a blob, verifying every segment it reads. Only the segments
/// that hold the requested range are read and decrypted.
/// `@unchecked`: `SymmetricKey` (an immutable value) is not marked `Sendable` in swift-crypto 3.
struct BlobReader: @unchecked Sendable {
    let path: FilePath
    let key: SymmetricKey
    let fileID: String
    /// The plaintext size recorded for the file.
    let plaintextSize: Int64

    init(path: FilePath, key: SymmetricKey, fileID: String, plaintextSize: Int64) {
        self.path = path
        self.key = key
        self.fileID = fileID
        self.plaintextSize = plaintextSize
    }

    /// The reader of a stored file's blob, with its unwrapped data key.
    init(file: StoredFile, store: BlobStore, keyring: MasterKeyring) throws {
        self.init(path: store.path(of: file.blobName), key: try keyring.unwrap(file.wrappedKey), fileID: file.id, plaintextSize: file.decryptedSize)
    }

    /// Calls `emit` with the plaintext of `range` in order. Throws ``BlobIntegrityError``
    /// at the first segment that fails authentication or is missing: nothing after it is
    /// emitted. Reading and decryption run on a task of their own, a batch of segments
    /// ahead of `emit` (which is usually waiting for the network), so the two overlap.
    func read(_ range: Range<Int64>, emit: (ByteBuffer) async throws -> Void) async throws {
        let batches = AsyncThrowingChannel<[ByteBuffer], any Error>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await self.decrypt(range) { plaintexts in await batches.send(plaintexts) }
                    batches.finish()
                } catch {
                    batches.fail(error)
                }
            }
            do {
                for try await plaintexts in batches {
                    for plaintext in plaintexts { try await emit(plaintext) }
                }
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Reads and opens the segments of `range`, handing over each batch's plaintext
    /// clipped to the range.
    private func decrypt(_ range: Range<Int64>, batch: @Sendable ([ByteBuffer]) async -> Void) async throws {
        try await FileSystem.shared.withFileHandle(forReadingAt: self.path) { handle in
            let header = try SegmentedCipher.Header(decoding: try await handle.readChunk(fromAbsoluteOffset: 0, length: .bytes(Int64(SegmentedCipher.headerSize))))
            let segmentSize = Int64(header.segmentSize)
            let sealedSize = segmentSize + Int64(SegmentedCipher.tagSize)
            let segmentCount = SegmentedCipher.segmentCount(plaintextSize: self.plaintextSize, segmentSize: header.segmentSize)
            let fileID = Array(self.fileID.utf8)
            // The whole blob is checked against the recorded size, so truncation or
            // padding is caught even when the range does not reach the end.
            let info = try await handle.info()
            guard info.size == SegmentedCipher.blobSize(plaintextSize: self.plaintextSize, segmentSize: header.segmentSize) else {
                throw BlobIntegrityError("blob size does not match the recorded file size")
            }
            guard !range.isEmpty || self.plaintextSize == 0 else { return }

            let first = range.isEmpty ? 0 : range.lowerBound / segmentSize
            let last = range.isEmpty ? 0 : (range.upperBound - 1) / segmentSize
            let segmentsPerRead: Int64 = 16
            var index = first
            while index <= last {
                try Task.checkCancellation()
                let count = min(segmentsPerRead, last - index + 1)
                let offset = Int64(SegmentedCipher.headerSize) + index * sealedSize
                let length = min(count * sealedSize, info.size - offset)
                let sealed = try await handle.readChunk(fromAbsoluteOffset: offset, length: .bytes(length))
                var cursor = sealed.readerIndex
                var plaintexts: [ByteBuffer] = []
                plaintexts.reserveCapacity(Int(count))
                for segment in index..<(index + count) {
                    let isLast = segment == segmentCount - 1
                    let plainLength = isLast ? self.plaintextSize - segment * segmentSize : segmentSize
                    let sealedLength = Int(plainLength) + SegmentedCipher.tagSize
                    guard let view = sealed.viewBytes(at: cursor, length: sealedLength) else {
                        throw BlobIntegrityError("segment \(segment) is missing")
                    }
                    cursor += sealedLength
                    let plaintext = try SegmentedCipher.open(view, index: segment, isLast: isLast, header: header, key: self.key, fileID: fileID)
                    // Clip to the range.
                    let segmentStart = segment * segmentSize
                    let from = Int(max(range.lowerBound, segmentStart) - segmentStart)
                    let to = Int(min(range.upperBound, segmentStart + plainLength) - segmentStart)
                    if from < to {
                        plaintexts.append(ByteBuffer(bytes: plaintext[plaintext.startIndex + from..<plaintext.startIndex + to]))
                    }
                }
                await batch(plaintexts)
                index += count
            }
        }
    }
}
