import Crypto
import Foundation
import NIOCore

/// The encrypted blob format: a 32-byte header, then the plaintext in fixed segments,
/// each sealed with AES-256-GCM under the file's data key.
///
///     header   "SFBLOB01" ‖ segment size (UInt32 BE) ‖ nonce prefix (7 random bytes) ‖ 13 zero bytes
///     segment  ciphertext (segment size bytes, the last one shorter or empty) ‖ tag (16 bytes)
///
/// Segment `i`'s nonce is prefix ‖ i (UInt32 BE) ‖ (1 if last else 0), and its associated
/// data is the file id: a segment moved, dropped, duplicated or cut off, or a blob swapped
/// for another file's, fails authentication. A file has at least one segment (an empty
/// file is one empty last segment).
enum SegmentedCipher {
    static let magic = Array("SFBLOB01".utf8)
    static let headerSize = 32
    static let tagSize = 16
    static let noncePrefixSize = 7
    /// 64 KiB: larger buffers make glibc mmap/munmap on every seal (SWIFT-NOTES.md).
    static let defaultSegmentSize = 64 * 1024

    struct Header: Equatable {
        var segmentSize: Int
        var noncePrefix: [UInt8]

        static func random(segmentSize: Int = SegmentedCipher.defaultSegmentSize) -> Header {
            var generator = SystemRandomNumberGenerator()
            return Header(segmentSize: segmentSize, noncePrefix: (0..<noncePrefixSize).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }

        func encoded() -> ByteBuffer {
            var buffer = ByteBuffer()
            buffer.writeBytes(SegmentedCipher.magic)
            buffer.writeInteger(UInt32(self.segmentSize))
            buffer.writeBytes(self.noncePrefix)
            buffer.writeRepeatingByte(0, count: headerSize - buffer.readableBytes)
            return buffer
        }

        init(segmentSize: Int, noncePrefix: [UInt8]) {
            self.segmentSize = segmentSize
            self.noncePrefix = noncePrefix
        }

        init(decoding buffer: ByteBuffer) throws {
            var buffer = buffer
            guard buffer.readableBytes >= headerSize, buffer.readBytes(length: magic.count) == magic,
                  let size = buffer.readInteger(as: UInt32.self), size > 0, size <= 16 * 1024 * 1024,
                  let prefix = buffer.readBytes(length: noncePrefixSize)
            else { throw BlobIntegrityError("blob header is not valid") }
            self.segmentSize = Int(size)
            self.noncePrefix = prefix
        }
    }

    /// Segments a plaintext of `plaintextSize` bytes takes.
    static func segmentCount(plaintextSize: Int64, segmentSize: Int) -> Int64 {
        max(1, (plaintextSize + Int64(segmentSize) - 1) / Int64(segmentSize))
    }

    /// Size on disk of a blob holding `plaintextSize` bytes.
    static func blobSize(plaintextSize: Int64, segmentSize: Int) -> Int64 {
        Int64(headerSize) + plaintextSize + segmentCount(plaintextSize: plaintextSize, segmentSize: segmentSize) * Int64(tagSize)
    }

    static func nonce(prefix: [UInt8], index: Int64, isLast: Bool) throws -> AES.GCM.Nonce {
        precondition(index >= 0 && index <= Int64(UInt32.max))
        var bytes = prefix
        let counter = UInt32(index)
        bytes += [UInt8(counter >> 24), UInt8(counter >> 16 & 0xFF), UInt8(counter >> 8 & 0xFF), UInt8(counter & 0xFF)]
        bytes.append(isLast ? 1 : 0)
        return try AES.GCM.Nonce(data: bytes)
    }

    /// Seals one segment and appends ciphertext ‖ tag to `output`.
    static func seal(
        _ plaintext: UnsafeRawBufferPointer, index: Int64, isLast: Bool, header: Header, key: SymmetricKey,
        fileID: [UInt8], into output: inout ByteBuffer
    ) throws {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce(prefix: header.noncePrefix, index: index, isLast: isLast), authenticating: fileID)
        output.writeBytes(box.ciphertext)
        output.writeBytes(box.tag)
    }

    /// Opens one sealed segment (ciphertext ‖ tag); throws if it is not exactly segment
    /// `index` of this file, with the given last-ness.
    static func open(
        _ sealed: ByteBufferView, index: Int64, isLast: Bool, header: Header, key: SymmetricKey, fileID: [UInt8]
    ) throws -> Data {
        guard sealed.count >= tagSize else { throw BlobIntegrityError("segment \(index) is truncated") }
        let split = sealed.index(sealed.endIndex, offsetBy: -tagSize)
        do {
            let box = try AES.GCM.SealedBox(
                nonce: nonce(prefix: header.noncePrefix, index: index, isLast: isLast),
                ciphertext: sealed[sealed.startIndex..<split], tag: sealed[split...])
            return try AES.GCM.open(box, using: key, authenticating: fileID)
        } catch {
            throw BlobIntegrityError("segment \(index) failed authentication")
        }
    }
}

/// A stored blob does not decrypt to what was stored: tampered, truncated, reordered or
/// swapped. Logged; never served as good data.
struct BlobIntegrityError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
