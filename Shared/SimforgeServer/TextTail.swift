/// The lines of a text file read backwards from its end in windows, so that a long log's
/// last lines cost only its tail: `files/{id}/lines/` (a stored file) and a running job's
/// `runs/{runId}/tail/{path}` (a file in its working directory).
public enum TextTail {
    public static let window: Int64 = 256 * 1024

    /// The last `count` lines (all with `nil`) of a file of `size` bytes that `read` reads
    /// by byte range. More than `maxBytes` to read is 400; bytes that are not UTF-8 too.
    public static func lines(
        size: Int64, last count: Int?, maxBytes: Int64, read: (Range<Int64>) async throws -> [UInt8]
    ) async throws -> [String] {
        var start = size
        var bytes = [UInt8]()
        repeat {
            let windowStart = max(0, start - Self.window)
            bytes = try await read(windowStart..<start) + bytes
            start = windowStart
            guard Int64(bytes.count) <= maxBytes else {
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

    /// `?lines=N`: a non-negative count, or `nil` when absent.
    public static func count(_ text: Substring?) throws -> Int? {
        try text.map { text -> Int in
            guard let value = Int(String(text)), value >= 0 else {
                throw APIError.validation(["lines": .messages(["A valid non-negative integer is required."])])
            }
            return value
        }
    }

    private static func newlines(in bytes: [UInt8]) -> Int {
        bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    }
}
