import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// One source uploaded through the API's resumable endpoint (`files/uploads/`, tus 1.0.0
/// core + creation). The upload's address is kept in a ``ResumeRecord`` until the File is
/// complete, so the same command after a cut, a kill or a ^C asks the server how many bytes
/// it kept (HEAD) and sends only the rest. A cut connection during the run is retried the
/// same way. The File's MD5 is then checked against the bytes read here.
struct TusUpload {
    let api: APIClient
    let source: UploadSource

    private static let version = "1.0.0"
    /// Consecutive failed attempts (no byte gained) before giving up.
    private static let attempts = 8

    /// Uploads and checks; returns the File as the API sent it.
    func run() async throws -> (id: String, json: [UInt8]) {
        let record = ResumeRecord(api: self.api, source: self.source)
        let location: String
        var offset: Int64
        if let resumed = try await self.resumable(record) {
            (location, offset) = resumed
            if offset > 0 {
                Terminal.note("resuming \(self.source.name) at \(ProgressDisplay.bytes(offset)) of \(ProgressDisplay.bytes(self.source.length))")
            }
        } else {
            (location, offset) = (try await self.create(), 0)
            record.save(location: location)
        }
        let progress = ProgressDisplay(label: self.source.name, total: self.source.length, start: offset)
        var reader = try self.source.reader()
        try reader.skip(to: offset)
        var failures = 0
        var lost = false
        while offset < self.source.length {
            do {
                if lost {  // start again from what the server kept
                    offset = try await self.offset(of: location)
                    reader = try self.source.reader()
                    try reader.skip(to: offset)
                    progress.reset(to: offset)
                }
                offset = try await self.patch(location, from: offset, reader: reader, progress: progress)
                (failures, lost) = (0, false)
            } catch let error as CLIError where error.exitCode == CLIError.unavailable || error.httpStatus == 409 {
                // A cut connection, a server restart, or the previous request still holding
                // the upload on the server (its lease ends when it notices the cut).
                failures += 1
                guard failures < Self.attempts else { throw error }
                try await Task.sleep(for: .seconds(min(failures, 5)))
                lost = true
            }
        }
        progress.finish()
        let md5 = try reader.finishMD5()
        let id = String(location.split(separator: "/").last ?? "")
        let file = try await self.api.call(.GET, "files/\(id)/")
        let remote = try APIClient.decode(OutputFile.self, from: file.body, url: self.api.url("files/\(id)/"))
        record.remove()
        try self.source.verify(remote, md5: md5)
        return (remote.id, file.body)
    }

    /// The recorded upload and its offset, if the server still has it.
    private func resumable(_ record: ResumeRecord) async throws -> (location: String, offset: Int64)? {
        guard let location = record.location else { return nil }
        do {
            return (location, try await self.offset(of: location))
        } catch let error as CLIError where error.httpStatus == 404 || error.httpStatus == 410 {
            record.remove()  // expired or deleted: start again
            return nil
        }
    }

    enum Unsupported: Error {
        /// Creating an upload answered 404 or 405: the server has no tus endpoint.
        case noEndpoint
    }

    /// A new upload's absolute URL.
    private func create() async throws -> String {
        let answer = try await self.api.call(.POST, "files/uploads/", headers: [
            ("Tus-Resumable", Self.version), ("Upload-Length", String(self.source.length)),
            ("Upload-Metadata", "filename " + Data(self.source.name.utf8).base64EncodedString()),
        ], accept: { (200..<300).contains($0) || [404, 405].contains($0) })
        guard answer.status != 404, answer.status != 405 else { throw Unsupported.noEndpoint }
        // Location may be relative to the request's URL (tus allows it).
        guard let location = answer.headers.first(name: "Location"),
              let url = URL(string: location, relativeTo: URL(string: self.api.url("files/uploads/")))
        else {
            throw CLIError(message: "the server created an upload without a valid Location", exitCode: CLIError.unavailable)
        }
        return url.absoluteString
    }

    private func offset(of location: String) async throws -> Int64 {
        let answer = try await self.api.call(.HEAD, location, headers: [("Tus-Resumable", Self.version)])
        guard let offset = answer.headers.first(name: "Upload-Offset").flatMap({ Int64($0) }), offset <= self.source.length else {
            throw CLIError(message: "the server's upload \(location) has no valid Upload-Offset", exitCode: CLIError.unavailable)
        }
        return offset
    }

    /// Sends the rest of the source in one request; returns the server's new offset.
    private func patch(_ location: String, from offset: Int64, reader: SourceReader, progress: ProgressDisplay) async throws -> Int64 {
        var request = self.api.request(.PATCH, location)
        request.headers.add(name: "Tus-Resumable", value: Self.version)
        request.headers.add(name: "Upload-Offset", value: String(offset))
        request.headers.add(name: "Content-Type", value: "application/offset+octet-stream")
        request.body = .stream(ReaderBody(reader: reader, progress: progress), length: .known(self.source.length - offset))
        // The answer comes once every byte is stored: the timeout is for the whole transfer.
        let response = try await self.api.execute(request, timeout: .hours(24 * 7))
        guard let newOffset = response.headers.first(name: "Upload-Offset").flatMap({ Int64($0) }), newOffset > offset else {
            throw CLIError(message: "the server kept no byte of the upload \(location)", exitCode: CLIError.unavailable)
        }
        return newOffset
    }
}

/// Where an unfinished upload of a source lives, kept in
/// `~/.cache/simforge/uploads/` under a hash of the API's URL and the source's fingerprint
/// (path, size, mtime): a changed file starts a new upload.
struct ResumeRecord {
    let file: URL

    init(api: APIClient, source: UploadSource) {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        let key = SHA256.hash(data: Data((api.base.absoluteString + "\n" + source.fingerprint).utf8))
        self.file = URL(fileURLWithPath: cache + "/simforge/uploads/" + key.map { String(format: "%02x", $0) }.joined())
    }

    var location: String? { try? String(contentsOf: self.file, encoding: .utf8) }

    /// Best effort: without a record the upload still works, it only cannot resume.
    func save(location: String) {
        try? FileManager.default.createDirectory(at: self.file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? location.write(to: self.file, atomically: true, encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.file)
    }
}
