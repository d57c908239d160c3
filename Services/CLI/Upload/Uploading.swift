import AsyncHTTPClient
import Foundation
import NIOCore

extension UploadSource {
    /// Uploads this source and checks the server's MD5; returns the File as the API sent it.
    /// Resumable through tus when the server offers it (Simforge does); otherwise, or with
    /// `resumable: false`, in one multipart request to `files/contents/`, the upload every
    /// Rescale-style server has.
    func upload(to api: APIClient, resumable: Bool) async throws -> (id: String, json: [UInt8]) {
        if resumable {
            do {
                return try await TusUpload(api: api, source: self).run()
            } catch TusUpload.Unsupported.noEndpoint {
                Terminal.note("the server has no resumable uploads (files/uploads/); sending \(self.name) in one request")
            }
        }
        return try await self.multipartUpload(to: api)
    }

    /// `POST files/contents/` with the bytes as the multipart field `file`, streamed.
    private func multipartUpload(to api: APIClient) async throws -> (id: String, json: [UInt8]) {
        let boundary = "simforge-\(UUID().uuidString)"
        let filename = self.name.replacingOccurrences(of: "\"", with: "%22")
        let head = ByteBuffer(string: "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\n"
                              + "Content-Type: application/octet-stream\r\n\r\n")
        let tail = ByteBuffer(string: "\r\n--\(boundary)--\r\n")
        let reader = try self.reader()
        let progress = ProgressDisplay(label: self.name, total: self.length)
        var request = api.request(.POST, "files/contents/")
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        request.body = .stream(ReaderBody(reader: reader, progress: progress, head: head, tail: tail),
                               length: .known(Int64(head.readableBytes + tail.readableBytes) + self.length))
        // The answer comes once every byte is stored: the timeout is for the whole transfer.
        let response = try await api.execute(request, timeout: .hours(24 * 7))
        let body: [UInt8]
        do {
            body = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        } catch {
            throw CLIError(message: "reading the answer of \(request.url) failed: \(APIClient.describe(error))", exitCode: CLIError.unavailable)
        }
        progress.finish()
        let file = try APIClient.decode(OutputFile.self, from: body, url: request.url)
        try self.verify(file, md5: try reader.finishMD5())
        return (file.id, body)
    }

    /// The server's File has the bytes that were read here.
    func verify(_ file: OutputFile, md5: String) throws {
        guard file.md5?.lowercased() == md5, file.decryptedSize == self.length else {
            throw CLIError(message: "\(self.name): the server's file \(file.id) has MD5 \(file.md5 ?? "none") and \(file.decryptedSize) bytes, "
                           + "expected \(md5) and \(self.length); upload again", exitCode: CLIError.integrity)
        }
    }
}

/// An upload request's body: `head`, the reader's next chunks (counted on the progress
/// display), then `tail`.
struct ReaderBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let reader: SourceReader
    let progress: ProgressDisplay
    var head = ByteBuffer()
    var tail = ByteBuffer()

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: ReaderBody
        var headSent = false
        var tailSent = false

        mutating func next() async throws -> ByteBuffer? {
            if !self.headSent {
                self.headSent = true
                if self.body.head.readableBytes > 0 { return self.body.head }
            }
            if let chunk = try self.body.reader.next() {
                self.body.progress.add(chunk.readableBytes)
                return chunk
            }
            guard !self.tailSent, self.body.tail.readableBytes > 0 else { return nil }
            self.tailSent = true
            return self.body.tail
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}
