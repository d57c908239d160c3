import Crypto
import Foundation
import NIOCore

/// Turns a plaintext stream into sealed segments (``SegmentedCipher``) in constant
/// memory. A full segment is sealed only once a byte past it arrives, so the last segment
/// is always known when it is sealed. Each sealed segment's plaintext is also handed out
/// (``takePlaintextSegments()``) for hashing on another task. Not thread-safe: one task
/// feeds it.
struct SegmentSealer {
    let header: SegmentedCipher.Header
    private let key: SymmetricKey
    private let fileID: [UInt8]
    private var pending: ByteBuffer
    private var plaintextSegments: [ByteBuffer] = []
    private var nextIndex: Int64 = 0
    private(set) var plaintextSize: Int64 = 0
    /// Sealed bytes not yet written (the header first).
    private(set) var output: ByteBuffer

    init(header: SegmentedCipher.Header, key: SymmetricKey, fileID: String) {
        self.header = header
        self.key = key
        self.fileID = Array(fileID.utf8)
        self.pending = Self.newSegment(size: header.segmentSize)
        self.output = header.encoded()
        self.output.reserveCapacity(Self.flushThreshold + header.segmentSize + SegmentedCipher.tagSize)
    }

    /// Write `output` out once it holds this much.
    static let flushThreshold = 1024 * 1024

    var shouldFlush: Bool { self.output.readableBytes >= Self.flushThreshold }

    mutating func absorb(_ bytes: UnsafeRawBufferPointer) throws {
        var remaining = bytes[...]
        while !remaining.isEmpty {
            if self.pending.readableBytes == self.header.segmentSize {
                try self.sealPending(isLast: false)
            }
            let take = min(remaining.count, self.header.segmentSize - self.pending.readableBytes)
            self.pending.writeBytes(UnsafeRawBufferPointer(rebasing: remaining.prefix(take)))
            remaining = remaining.dropFirst(take)
            self.plaintextSize += Int64(take)
        }
    }

    /// Seals the last segment.
    mutating func finish() throws {
        try self.sealPending(isLast: true)
    }

    /// Hands over the plaintext of the segments sealed so far, in order.
    mutating func takePlaintextSegments() -> [ByteBuffer] {
        defer { self.plaintextSegments.removeAll(keepingCapacity: true) }
        return self.plaintextSegments
    }

    /// Hands over the sealed bytes so far.
    mutating func takeOutput() -> ByteBuffer {
        let taken = self.output
        self.output = ByteBuffer()
        self.output.reserveCapacity(Self.flushThreshold + self.header.segmentSize + SegmentedCipher.tagSize)
        return taken
    }

    private mutating func sealPending(isLast: Bool) throws {
        try self.pending.withUnsafeReadableBytes { plaintext in
            try SegmentedCipher.seal(
                plaintext, index: self.nextIndex, isLast: isLast, header: self.header, key: self.key, fileID: self.fileID,
                into: &self.output)
        }
        self.nextIndex += 1
        // The segment now belongs to the hasher; a fresh buffer avoids a copy-on-write.
        self.plaintextSegments.append(self.pending)
        self.pending = Self.newSegment(size: self.header.segmentSize)
    }

    private static func newSegment(size: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        return buffer
    }
}
