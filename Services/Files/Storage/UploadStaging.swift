import Crypto
import Foundation
import NIOCore
import NIOFileSystem

/// The bytes of an unfinished resumable upload, encrypted like everything else at rest:
/// `uploads/<file id>.staging` holds chunks `length (UInt32 BE) ‖ nonce (12) ‖ ciphertext ‖
/// tag (16)`, each sealed with the file's data key, a random nonce and the file id plus
/// the chunk's plaintext offset as associated data. Chunks are appended as PATCH bodies
/// arrive; completion replays them through the normal upload pipeline (MD5, segmented
/// blob), then the staging file goes.
struct UploadStaging: Sendable {
    static let chunkSize = 64 * 1024
    static let overhead = 4 + 12 + SegmentedCipher.tagSize

    let root: FilePath

    func path(of fileID: String) -> FilePath {
        self.root.appending("uploads").appending("\(fileID).staging")
    }

    func prepare() async throws {
        try await FileSystem.shared.createDirectory(at: self.root.appending("uploads"), withIntermediateDirectories: true)
    }

    func delete(_ fileID: String) async {
        try? await FileSystem.shared.removeItem(at: self.path(of: fileID))
    }

    static func seal(_ plaintext: UnsafeRawBufferPointer, offset: Int64, key: SymmetricKey, fileID: String, into output: inout ByteBuffer) throws {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: associatedData(fileID: fileID, offset: offset))
        output.writeInteger(UInt32(plaintext.count))
        output.writeBytes(box.nonce)
        output.writeBytes(box.ciphertext)
        output.writeBytes(box.tag)
    }

    /// Decrypts the first `stagedBytes` of the staging file in order, checking each chunk
    /// sits at the offset it was sealed for.
    func replay(fileID: String, stagedBytes: Int64, key: SymmetricKey, emit: (UnsafeRawBufferPointer) throws -> Void,
                flush: () async throws -> Void) async throws -> Int64 {
        var plaintextOffset: Int64 = 0
        guard stagedBytes > 0 else { return 0 }
        try await FileSystem.shared.withFileHandle(forReadingAt: self.path(of: fileID)) { handle in
            var pending = ByteBuffer()
            var position: Int64 = 0
            while position < stagedBytes || pending.readableBytes > 0 {
                if pending.readableBytes < 4 + Self.chunkSize + Self.overhead, position < stagedBytes {
                    var chunk = try await handle.readChunk(fromAbsoluteOffset: position, length: .bytes(min(1024 * 1024, stagedBytes - position)))
                    position += Int64(chunk.readableBytes)
                    pending.discardReadBytes()
                    pending.writeBuffer(&chunk)
                }
                guard let length = pending.getInteger(at: pending.readerIndex, as: UInt32.self) else {
                    throw BlobIntegrityError("staged upload is truncated")
                }
                let total = 4 + 12 + Int(length) + SegmentedCipher.tagSize
                guard pending.readableBytes >= total else {
                    if position >= stagedBytes { throw BlobIntegrityError("staged upload is truncated") }
                    continue
                }
                pending.moveReaderIndex(forwardBy: 4)
                let nonce = try AES.GCM.Nonce(data: pending.readBytes(length: 12)!)
                let ciphertext = pending.readBytes(length: Int(length))!
                let tag = pending.readBytes(length: SegmentedCipher.tagSize)!
                let plaintext: Data
                do {
                    plaintext = try AES.GCM.open(
                        AES.GCM.SealedBox(nonce: nonce, ciphertext: ciphertext, tag: tag), using: key,
                        authenticating: Self.associatedData(fileID: fileID, offset: plaintextOffset))
                } catch {
                    throw BlobIntegrityError("staged upload chunk at \(plaintextOffset) failed authentication")
                }
                try plaintext.withUnsafeBytes(emit)
                try await flush()
                plaintextOffset += Int64(plaintext.count)
            }
        }
        return plaintextOffset
    }

    private static func associatedData(fileID: String, offset: Int64) -> [UInt8] {
        var bytes = Array("\(fileID)|".utf8)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: offset >> Int64(shift))) }
        return bytes
    }
}
