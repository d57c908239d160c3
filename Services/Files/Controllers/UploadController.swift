import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SimforgeModels
import SimforgeServer

/// `POST` or `PUT files/contents/` (and the alias `files/content/`): a multipart upload, parsed,
/// hashed and encrypted as it streams in. The row is committed only after the blob is
/// complete and synced; a cut, malformed or oversized upload leaves neither.
struct UploadController<Repository: FileRepository> {
    let repository: Repository
    let store: BlobStore
    let keyring: MasterKeyring
    let maxUploadBytes: Int64

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.post("/files/contents", use: self.upload)
        group.post("/files/content", use: self.upload)
        group.put("/files/contents", use: self.upload)
        group.put("/files/content", use: self.upload)
    }

    @Sendable func upload(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        guard let contentType = request.headers[.contentType], let boundary = MultipartParser.boundary(contentType: contentType) else {
            throw APIError(.unsupportedMediaType, detail: "Unsupported media type in request: send multipart/form-data with a 'file' part.")
        }
        // The form's own bytes may take a megabyte past the limit (no overflow when the limit is near Int64.max).
        if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > self.maxUploadBytes,
           declared - self.maxUploadBytes > 1024 * 1024 {
            throw UploadRules.tooLarge(self.maxUploadBytes)
        }
        let ingest = try await BlobIngest(store: self.store, fileID: ShortID.make(), limit: self.maxUploadBytes)
        do {
            let received = try await self.receive(request, boundary: boundary, into: ingest)
            let md5 = try await ingest.finish()
            let name = UploadRules.sanitizedName(received.filename)
            let file = StoredFile(
                id: ingest.fileID, owner: owner, typeId: received.typeId, name: name, relativePath: name,
                storagePath: StoredFile.storagePath(owner: owner, name: name, blobName: ingest.blobName), blobName: ingest.blobName,
                wrappedKey: try self.keyring.wrap(ingest.dataKey), decryptedSize: ingest.size, md5: md5, isUploaded: true,
                viewInBrowser: false, jobId: nil, runId: nil, dateUploaded: Date())
            try await self.repository.insertCommitted(file, store: self.store, logger: context.logger)
            context.logger.info("file uploaded", metadata: ["files.id": "\(file.id)", "files.size": "\(file.decryptedSize)"])
            return try Response.json(file.wire(apiBase: PublicURL.apiBase(userId: owner, context: context)), status: .created)
        } catch let error as BlobIngest.TooLarge {
            await ingest.abandon()
            throw UploadRules.tooLarge(error.limit)
        } catch {
            await ingest.abandon()
            throw error
        }
    }

    private struct Received {
        var filename: String?
        var typeId: Int
    }

    /// Reads the whole body: the `file` part goes through the sealer into the blob;
    /// `typeId` (a form field, or the file part's `type_id` header) is kept; other parts
    /// are skipped.
    private func receive(_ request: Request, boundary: String, into ingest: BlobIngest) async throws -> Received {
        var parser = MultipartParser(boundary: boundary)
        var current = UploadPart.none
        var sawFile = false
        var filename: String?
        var typeIdText: String?
        var typeIdField = ""

        do {
            for try await buffer in request.body {
                try parser.feed(buffer) { event in
                    switch event {
                    case .partStart(let head):
                        if head.name == "file" && !sawFile {
                            current = .file
                            sawFile = true
                            filename = head.filename
                            if let header = head.headers["type_id"] { typeIdText = header }
                        } else if head.name == "typeId" {
                            current = .typeId
                            typeIdField = ""
                        } else {
                            current = .ignored
                        }
                    case .body(let bytes):
                        switch current {
                        case .file:
                            try ingest.absorb(bytes)
                        case .typeId:
                            guard typeIdField.utf8.count + bytes.count <= 32 else {
                                throw APIError.validation(["typeId": .messages(["A valid integer is required."])])
                            }
                            typeIdField += String(decoding: bytes, as: UTF8.self)
                        case .none, .ignored:
                            break
                        }
                    case .partEnd:
                        if current == .typeId { typeIdText = typeIdField }
                        current = .none
                    }
                }
                try await ingest.flushIfNeeded()
            }
            try parser.finish()
        } catch let error as MultipartParser.MalformedError {
            throw APIError.badRequest(error.description)
        } catch let error as APIError {
            throw error
        } catch let error as BlobIngest.TooLarge {
            throw error
        } catch {
            // The client went away or the connection broke mid-body.
            throw APIError.badRequest("The upload was interrupted.")
        }
        guard sawFile else {
            throw APIError.validation(["file": .messages(["No file was submitted."])])
        }
        return Received(filename: filename, typeId: try UploadRules.typeId(typeIdText))
    }
}

/// Which form part the upload parser is in.
private enum UploadPart {
    case none, file, typeId, ignored
}
