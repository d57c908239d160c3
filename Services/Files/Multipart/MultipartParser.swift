import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// A streaming `multipart/form-data` parser (RFC 7578, RFC 2046 §5.1). It is fed the body
/// as it arrives and reports part heads and body bytes through a callback, without
/// collecting a part: body bytes are handed out as soon as they cannot be the start of a
/// delimiter. Delimiters are found with `memmem`, so the cost per byte is one copy and a
/// vectorized scan (SWIFT-NOTES.md: a callback per `\r` byte was the bottleneck).
struct MultipartParser {
    struct PartHead: Equatable {
        /// Header names lower-cased.
        var headers: [String: String]
        /// `name` of `Content-Disposition: form-data`.
        var name: String?
        /// `filename` (or `filename*`) of `Content-Disposition`.
        var filename: String?
    }

    enum Event {
        case partStart(PartHead)
        /// Valid only during the callback.
        case body(UnsafeRawBufferPointer)
        case partEnd
    }

    struct MalformedError: Error, CustomStringConvertible {
        let description: String
    }

    private enum State {
        case preamble
        case afterDelimiter
        case headers
        case body
        case epilogue
    }

    static let maxHeaderBytes = 16 * 1024

    private let dashBoundary: [UInt8]
    /// CRLF "--" boundary: what ends a part's body.
    private let delimiter: [UInt8]
    private var state = State.preamble
    private var pending = ByteBuffer()

    var isComplete: Bool { self.state == .epilogue }

    init(boundary: String) {
        self.dashBoundary = Array("--\(boundary)".utf8)
        self.delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// The boundary of a `multipart/form-data` content type, or `nil`.
    static func boundary(contentType: String) -> String? {
        let parts = HeaderValue(contentType)
        guard parts.value.lowercased() == "multipart/form-data",
              let boundary = parts.parameters["boundary"], (1...70).contains(boundary.utf8.count)
        else { return nil }
        return boundary
    }

    mutating func feed(_ buffer: ByteBuffer, _ handle: (Event) throws -> Void) throws {
        var buffer = buffer
        if self.pending.readableBytes == 0 {
            // Nothing carried over: parse the new buffer in place, without a copy.
            self.pending = buffer
        } else if self.state == .body, self.pending.readableBytes < self.delimiter.count,
                  buffer.readableBytes >= self.delimiter.count, !self.delimiterStraddles(buffer) {
            // The carried-over tail is plain body: hand it out and take the new buffer as is.
            try self.pending.withUnsafeReadableBytes { try handle(.body($0)) }
            self.pending = buffer
        } else {
            self.pending.writeBuffer(&buffer)
        }
        while try self.step(handle) {}
        if self.pending.readerIndex > 256 * 1024 {
            self.pending.discardReadBytes()
        }
    }

    /// Whether a delimiter starts in the carried-over tail and ends in `next`.
    private func delimiterStraddles(_ next: ByteBuffer) -> Bool {
        var window = ByteBuffer()
        window.writeImmutableBuffer(self.pending)
        window.writeImmutableBuffer(next.getSlice(at: next.readerIndex, length: self.delimiter.count - 1)!)
        return window.readableBytesView.firstRange(of: self.delimiter) != nil
    }

    /// Checks the body ended after the closing delimiter.
    func finish() throws {
        guard self.state == .epilogue else {
            throw MalformedError(description: "Multipart form parse error - body ended before the closing boundary")
        }
    }

    /// Advances as far as the pending bytes allow; `false` when more input is needed.
    private mutating func step(_ handle: (Event) throws -> Void) throws -> Bool {
        switch self.state {
        case .preamble:
            guard let index = self.find(self.dashBoundary) else {
                // Keep what could be the start of the first boundary.
                self.pending.moveReaderIndex(forwardBy: max(0, self.pending.readableBytes - self.dashBoundary.count + 1))
                return false
            }
            self.pending.moveReaderIndex(forwardBy: index + self.dashBoundary.count)
            self.state = .afterDelimiter
            return true

        case .afterDelimiter:
            guard self.pending.readableBytes >= 2 else { return false }
            let view = self.pending.readableBytesView
            if view.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) {
                self.state = .epilogue
                self.pending.clear()
                return false
            }
            // Transport padding (spaces, tabs) may precede the CRLF.
            guard let lineEnd = self.find([13, 10]) else {
                if self.pending.readableBytes > 1024 { throw MalformedError(description: "Multipart form parse error - bad boundary line") }
                return false
            }
            guard view.prefix(lineEnd).allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else {
                throw MalformedError(description: "Multipart form parse error - bad boundary line")
            }
            self.pending.moveReaderIndex(forwardBy: lineEnd + 2)
            self.state = .headers
            return true

        case .headers:
            let headerBlock: String
            if self.pending.readableBytesView.starts(with: [13, 10]) {
                headerBlock = ""
                self.pending.moveReaderIndex(forwardBy: 2)
            } else if let end = self.find([13, 10, 13, 10]) {
                headerBlock = self.pending.readString(length: end) ?? ""
                self.pending.moveReaderIndex(forwardBy: 4)
            } else {
                if self.pending.readableBytes > Self.maxHeaderBytes {
                    throw MalformedError(description: "Multipart form parse error - part headers too large")
                }
                return false
            }
            try handle(.partStart(try Self.parseHead(headerBlock)))
            self.state = .body
            return true

        case .body:
            if let index = self.find(self.delimiter) {
                if index > 0 {
                    try self.pending.withUnsafeReadableBytes { try handle(.body(UnsafeRawBufferPointer(rebasing: $0.prefix(index)))) }
                }
                self.pending.moveReaderIndex(forwardBy: index + self.delimiter.count)
                try handle(.partEnd)
                self.state = .afterDelimiter
                return true
            }
            let safe = self.pending.readableBytes - (self.delimiter.count - 1)
            if safe > 0 {
                try self.pending.withUnsafeReadableBytes { try handle(.body(UnsafeRawBufferPointer(rebasing: $0.prefix(safe)))) }
                self.pending.moveReaderIndex(forwardBy: safe)
            }
            return false

        case .epilogue:
            self.pending.clear()
            return false
        }
    }

    /// Offset of `needle` in the pending bytes: `memchr` (vectorized) for its first byte,
    /// `memcmp` for the rest.
    private func find(_ needle: [UInt8]) -> Int? {
        self.pending.withUnsafeReadableBytes { haystack -> Int? in
            guard haystack.count >= needle.count, let base = haystack.baseAddress else { return nil }
            return needle.withUnsafeBytes { needleBytes -> Int? in
                let lastStart = haystack.count - needle.count
                var offset = 0
                while offset <= lastStart {
                    guard let hit = memchr(base + offset, Int32(needle[0]), lastStart - offset + 1) else { return nil }
                    let position = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(hit, needleBytes.baseAddress!, needle.count) == 0 { return position }
                    offset = position + 1
                }
                return nil
            }
        }
    }

    static func parseHead(_ block: String) throws -> PartHead {
        var headers: [String: String] = [:]
        for line in block.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw MalformedError(description: "Multipart form parse error - malformed part header")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var head = PartHead(headers: headers, name: nil, filename: nil)
        if let disposition = headers["content-disposition"] {
            let parsed = HeaderValue(disposition)
            head.name = parsed.parameters["name"]
            head.filename = parsed.parameters["filename*"].flatMap(Self.decodeExtendedValue) ?? parsed.parameters["filename"]
        }
        return head
    }

    /// RFC 5987 `UTF-8''percent-encoded`.
    private static func decodeExtendedValue(_ value: String) -> String? {
        let parts = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].lowercased() == "utf-8" else { return nil }
        return String(parts[2]).removingPercentEncoding
    }
}

/// A header value with `;`-separated parameters (`form-data; name="file"; filename="a.txt"`),
/// quoted strings unescaped; parameter names lower-cased.
struct HeaderValue {
    var value: String
    var parameters: [String: String] = [:]

    init(_ text: String) {
        var pieces: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && inQuotes {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
                current.append(character)
            } else if character == ";" && !inQuotes {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        self.value = pieces.first?.trimmingCharacters(in: .whitespaces) ?? ""
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            self.parameters[name] = value
        }
    }
}
