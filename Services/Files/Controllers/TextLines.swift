import Foundation
import Logging
import NIOCore
import SimforgeServer

/// The lines of a stored file for `files/{id}/lines/`: all of them, or the last N
/// (``TextTail``), decrypted as they are read.
struct TextLines {
    let file: StoredFile
    let store: BlobStore
    let keyring: MasterKeyring

    static let maxBytes: Int64 = 16 * 1024 * 1024

    func read(last count: Int?, logger: Logger) async throws -> [String] {
        guard self.file.isUploaded else { throw APIError(.conflict, detail: "The file is not fully uploaded yet.") }
        let reader = try BlobReader(file: self.file, store: self.store, keyring: self.keyring)
        return try await TextTail.lines(size: self.file.decryptedSize, last: count, maxBytes: Self.maxBytes) { range in
            var chunk = [UInt8]()
            try await reader.read(range) { chunk += $0.readableBytesView }
            return chunk
        }
    }
}
