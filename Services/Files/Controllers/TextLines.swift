import Foundation
import Logging
import NIOCore
import SimforgeServer

/// The lines of a text file for `files/{id}/lines/`: all of them, or the last N read
/// backwards from the end in windows, so a long log's tail costs only its tail.
struct TextLines {
    let file: StoredFile
    let store: BlobStore
    let keyring: MasterKeyring

    static let maxBytes: Int64 = 16 * 1024 * 1024
    static let window: Int64 = 256 * 1024

    func read(last count: Int?, logger: Logger) async throws -> [String] {
        guard self.file.isUploaded else { throw APIError(.conflict, detail: "The file is not fully uploaded yet.") }
        let size = self.file.decryptedSize
        let reader = try BlobReader(file: self.file, store: self.store, keyring: self.keyring)
        var start = size
        var bytes = [UInt8]()
        repeat {
            let windowStart = max(0, start - Self.window)
            var chunk = [UInt8]()
            try await reader.read(windowStart..<start) { chunk += $0.readableBytesView }
            bytes = chunk + bytes
            start = windowStart
            guard Int64(bytes.count) <= Self.maxBytes else {
                throw APIError.badRequest("The file is too large to list whole; ask for the last lines with ?lines=N.")
            }
        } while start > 0 && (count.map { Self.newlines(in: bytes) <= $0 } ?? true)

        if start > 0, let firstNewline = bytes.firstIndex(of: 10) {
            // The window began mid-line (maybe mid-character): that line is not wanted.
            bytes.removeSubrange(...firstNewline)
        }
        // Split on the byte: Swift treats "\r\n" as one Character.
        var lines = try bytes.split(separator: 10, omittingEmptySubsequences: false).map { line -> String in
            let trimmed = line.last == 13 ? line.dropLast() : line
            guard let text = String(validating: trimmed, as: UTF8.self) else {
                throw APIError.badRequest("The file is not a UTF-8 text file.")
            }
            return text
        }
        if bytes.last == 10 || bytes.isEmpty { lines.removeLast() }
        return count.map { Array(lines.suffix($0)) } ?? lines
    }

    private static func newlines(in bytes: [UInt8]) -> Int {
        bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    }
}
