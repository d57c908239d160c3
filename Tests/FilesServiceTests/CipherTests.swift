import Crypto
import Foundation
import NIOCore
import NIOFileSystem
import Testing
@testable import FilesService

/// The blob format detects every way a stored blob can be damaged or swapped.
@Suite struct CipherTests {
    static let segment = 1024

    /// A blob for `content`, written through the sealer, in a fresh folder.
    static func makeBlob(_ content: Data, fileID: String = "file01") async throws -> (BlobStore, String, SymmetricKey) {
        let store = BlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("cipher-\(UUID().uuidString)").path)
        try await store.prepare()
        let key = SymmetricKey(size: .bits256)
        var sealer = SegmentSealer(header: .random(segmentSize: segment), key: key, fileID: fileID)
        try content.withUnsafeBytes { try sealer.absorb($0) }
        try sealer.finish()
        let name = BlobStore.newBlobName()
        let writer = try await store.create(name)
        try await writer.write(sealer.takeOutput())
        try await writer.commit()
        return (store, name, key)
    }

    static func read(_ store: BlobStore, _ name: String, key: SymmetricKey, size: Int, fileID: String = "file01",
                     range: Range<Int64>? = nil) async throws -> Data {
        var result = Data()
        try await BlobReader(path: store.path(of: name), key: key, fileID: fileID, plaintextSize: Int64(size))
            .read(range ?? 0..<Int64(size)) { result += Data(buffer: $0) }
        return result
    }

    static func mutate(_ store: BlobStore, _ name: String, _ change: (inout Data) -> Void) throws {
        let url = URL(fileURLWithPath: store.path(of: name).string)
        var bytes = try Data(contentsOf: url)
        change(&bytes)
        try bytes.write(to: url)
    }

    static let sealed = segment + SegmentedCipher.tagSize
    static let header = SegmentedCipher.headerSize

    @Test func intactBlobReadsBackWholeAndInRanges() async throws {
        let content = Data.random(count: 5 * Self.segment + 17)
        let (store, name, key) = try await Self.makeBlob(content)
        #expect(try await Self.read(store, name, key: key, size: content.count) == content)
        for range in [0..<1, 1023..<1025, 2048..<5137, 5136..<5137] as [Range<Int64>] {
            let part = try await Self.read(store, name, key: key, size: content.count, range: range)
            #expect(part == content[Int(range.lowerBound)..<Int(range.upperBound)])
        }
    }

    @Test func aFlippedBitIsDetected() async throws {
        let content = Data.random(count: 3 * Self.segment)
        let (store, name, key) = try await Self.makeBlob(content)
        try Self.mutate(store, name) { $0[Self.header + Self.sealed + 10] ^= 0x01 }
        await #expect(throws: BlobIntegrityError.self) { try await Self.read(store, name, key: key, size: content.count) }
    }

    @Test func truncationIsDetected() async throws {
        let content = Data.random(count: 3 * Self.segment)
        let (store, name, key) = try await Self.makeBlob(content)
        try Self.mutate(store, name) { $0.removeLast(Self.sealed) }
        await #expect(throws: BlobIntegrityError.self) { try await Self.read(store, name, key: key, size: content.count) }
        // Even claiming the shorter size: the new last segment was not sealed as last.
        await #expect(throws: BlobIntegrityError.self) { try await Self.read(store, name, key: key, size: 2 * Self.segment) }
    }

    @Test func reorderedSegmentsAreDetected() async throws {
        let content = Data.random(count: 3 * Self.segment)
        let (store, name, key) = try await Self.makeBlob(content)
        try Self.mutate(store, name) { bytes in
            let first = bytes[Self.header..<Self.header + Self.sealed]
            let second = bytes[Self.header + Self.sealed..<Self.header + 2 * Self.sealed]
            bytes.replaceSubrange(Self.header..<Self.header + 2 * Self.sealed, with: second + first)
        }
        await #expect(throws: BlobIntegrityError.self) { try await Self.read(store, name, key: key, size: content.count) }
    }

    @Test func aBlobOfAnotherFileIsDetected() async throws {
        let content = Data.random(count: 100)
        let (store, name, key) = try await Self.makeBlob(content, fileID: "fileA1")
        await #expect(throws: BlobIntegrityError.self) {
            try await Self.read(store, name, key: key, size: content.count, fileID: "fileB2")
        }
    }

    @Test func wrappedKeysUnwrapAndRotateWithoutExposingTheKey() throws {
        let oldSpec = FilesTestApp.keySpec().replacingOccurrences(of: "k1:", with: "old:")
        let newSpec = FilesTestApp.keySpec().replacingOccurrences(of: "k1:", with: "new:")
        let old = try MasterKeyring(spec: oldSpec)
        let dataKey = SymmetricKey(size: .bits256)
        let wrapped = try old.wrap(dataKey)
        let raw = dataKey.withUnsafeBytes { Data($0) }
        #expect(Data(base64Encoded: wrapped.encoded)?.range(of: raw) == nil)
        #expect(try old.unwrap(wrapped) == dataKey)

        let rotated = try MasterKeyring(spec: newSpec + "," + oldSpec)
        #expect(rotated.currentKeyID == "new")
        #expect(wrapped.keyID != rotated.currentKeyID)
        #expect(try rotated.unwrap(wrapped) == dataKey)
        let rewrapped = try rotated.wrap(try rotated.unwrap(wrapped))
        #expect(rewrapped.keyID == "new")
        #expect(try MasterKeyring(spec: newSpec).unwrap(rewrapped) == dataKey)
        #expect(throws: MasterKeyring.UnknownKeyError.self) { try MasterKeyring(spec: newSpec).unwrap(wrapped) }
    }

    @Test func malformedKeySpecsAreRefused() {
        #expect(throws: (any Error).self) { try MasterKeyring(spec: "") }
        #expect(throws: (any Error).self) { try MasterKeyring(spec: "k1:short") }
        #expect(throws: (any Error).self) { try MasterKeyring(spec: "k1") }
    }
}
