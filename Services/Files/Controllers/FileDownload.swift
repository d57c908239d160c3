import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SimforgeServer

/// The response of `files/{id}/contents/`: the plaintext, decrypted and verified as it
/// streams, with `ETag` (the md5), `Content-Length`, `Content-Disposition`, a content type
/// from the name, and single `Range` requests (206; 416 when unsatisfiable).
struct FileDownload {
    let file: StoredFile
    let store: BlobStore
    let keyring: MasterKeyring

    func response(for request: Request, logger: Logger) throws -> Response {
        guard self.file.isUploaded else { throw APIError(.conflict, detail: "The file is not fully uploaded yet.") }
        let size = self.file.decryptedSize
        var headers: HTTPFields = [
            .contentType: Self.contentType(for: self.file.name),
            .acceptRanges: "bytes",
            .contentDisposition: Self.disposition(self.file.name),
        ]
        if let md5 = self.file.md5 { headers[.eTag] = "\"\(md5)\"" }

        var status = HTTPResponse.Status.ok
        var range: Range<Int64> = 0..<size
        if let rangeHeader = request.headers[.range], request.headers[.ifRange].map({ $0 == headers[.eTag] }) ?? true {
            switch ByteRange.parse(rangeHeader, size: size) {
            case .satisfiable(let requested):
                status = .partialContent
                range = requested
                headers[.contentRange] = "bytes \(requested.lowerBound)-\(requested.upperBound - 1)/\(size)"
            case .unsatisfiable:
                headers[.contentRange] = "bytes */\(size)"
                throw APIError(.rangeNotSatisfiable, detail: "The requested range is not satisfiable.", headers: headers)
            case .ignored:
                break
            }
        }
        headers[.contentLength] = String(range.count)
        if request.method == .head {
            return Response(status: status, headers: headers, body: .init())
        }
        let reader = try BlobReader(file: self.file, store: self.store, keyring: self.keyring)
        let fileID = self.file.id
        let served = range
        let body = ResponseBody(contentLength: Int(served.count)) { writer in
            do {
                try await reader.read(served) { chunk in try await writer.write(chunk) }
                try await writer.finish(nil)
            } catch let error as BlobIntegrityError {
                // The client sees a response cut short (fewer bytes than Content-Length), never bad data.
                logger.error("stored blob failed verification", metadata: ["files.id": "\(fileID)", "error": "\(error)"])
                throw error
            }
        }
        return Response(status: status, headers: headers, body: body)
    }

    static func disposition(_ name: String) -> String {
        let ascii = String(name.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ascii
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }

    static func contentType(for name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "txt", "log", "out", "err", "csv", "dat", "inp", "foam", "dict", "py", "sh", "cfg", "ini", "md": "text/plain; charset=utf-8"
        case "json": "application/json"
        case "xml": "application/xml"
        case "html", "htm": "text/html; charset=utf-8"
        case "pdf": "application/pdf"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "svg": "image/svg+xml"
        case "zip": "application/zip"
        case "gz", "tgz": "application/gzip"
        case "tar": "application/x-tar"
        default: "application/octet-stream"
        }
    }
}

/// A single `Range: bytes=...` (RFC 9110 §14.1.2). Multiple ranges are served whole.
enum ByteRange: Equatable {
    case satisfiable(Range<Int64>)
    case unsatisfiable
    /// Not a single byte range: answer 200 with everything.
    case ignored

    static func parse(_ header: String, size: Int64) -> ByteRange {
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.lowercased().hasPrefix("bytes=") else { return .ignored }
        let spec = value.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .ignored }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int64(last), suffix >= 0 else { return .ignored }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .satisfiable(max(0, size - suffix)..<size)
        }
        guard let start = Int64(first), start >= 0 else { return .ignored }
        var end = size - 1
        if !last.isEmpty {
            guard let requestedEnd = Int64(last), requestedEnd >= start else { return .ignored }
            end = min(requestedEnd, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .satisfiable(start..<(end + 1))
    }
}
