import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SimforgeModels
import SimforgeServer

/// `POST files/contents/` (and the alias `files/content/`): a multipart upload, parsed,
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
    }

    @Sendable func upload(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        guard let contentType = request.headers[.contentType], let boundary = MultipartParser.boundary(contentType: contentType) else {
            throw APIError(.unsupportedMediaType, detail: "Unsupported media type in request: send multipart/form-data with a 'file' part.")
        }
        if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > self.maxUploadBytes + 1024 * 1024 {
            throw Self.tooLarge(self.maxUploadBytes)
        }
        let fileID = ShortID.make()
        let blobName = BlobStore.newBlobName()
        let dataKey = SymmetricKey(size: .bits256)
        let writer = try await self.store.create(blobName)
        do {
            let received = try await self.receive(request, boundary: boundary, fileID: fileID, dataKey: dataKey, writer: writer)
            try await writer.commit()
            let name = Self.sanitizedName(received.filename)
            let file = StoredFile(
                id: fileID, owner: owner, typeId: received.typeId, name: name, relativePath: name,
                storagePath: StoredFile.storagePath(owner: owner, name: name, blobName: blobName), blobName: blobName,
                wrappedKey: try self.keyring.wrap(dataKey), decryptedSize: received.size, md5: received.md5, isUploaded: true,
                viewInBrowser: false, jobId: nil, runId: nil, dateUploaded: Date())
            do {
                try await self.repository.insert(file, logger: context.logger)
            } catch {
                try? await self.store.delete(blobName)
                throw error
            }
            context.logger.info("file uploaded", metadata: ["files.id": "\(fileID)", "files.size": "\(received.size)"])
            let body = try JSONEncoder.simforge().encode(file.wire(apiBase: PublicURL.apiBase(userId: owner, for: request)))
            return Response(status: .created, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        } catch {
            await writer.abandon()
            throw error
        }
    }

    private struct Received {
        var filename: String?
        var typeId: Int
        var size: Int64
        var md5: String
    }

    /// Reads the whole body: the `file` part goes through the sealer into the blob;
    /// `typeId` (a form field, or the file part's `type_id` header) is kept; other parts
    /// are skipped.
    private func receive(_ request: Request, boundary: String, fileID: String, dataKey: SymmetricKey, writer: BlobWriter) async throws -> Received {
        var parser = MultipartParser(boundary: boundary)
        var sealer = SegmentSealer(header: .random(), key: dataKey, fileID: fileID)
        var current = UploadPart.none
        var sawFile = false
        var filename: String?
        var typeIdText: String?
        var typeIdField = ""
        let maxBytes = self.maxUploadBytes

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
                            try sealer.absorb(bytes)
                            if sealer.plaintextSize > maxBytes { throw Self.tooLarge(maxBytes) }
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
                if sealer.shouldFlush {
                    try await writer.write(sealer.takeOutput())
                }
            }
            try parser.finish()
        } catch let error as MultipartParser.MalformedError {
            throw APIError.badRequest(error.description)
        } catch let error as APIError {
            throw error
        } catch {
            // The client went away or the connection broke mid-body.
            throw APIError.badRequest("The upload was interrupted.")
        }
        guard sawFile else {
            throw APIError.validation(["file": .messages(["No file was submitted."])])
        }
        let typeId = try Self.typeId(typeIdText)
        let md5 = try sealer.finish()
        try await writer.write(sealer.takeOutput())
        return Received(filename: filename, typeId: typeId, size: sealer.plaintextSize, md5: md5)
    }

    static func typeId(_ text: String?) throws -> Int {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return File.TypeID.input }
        guard let value = Int(text), File.TypeID.all.contains(value) else {
            throw APIError.validation(["typeId": .messages(["\"\(text.prefix(32))\" is not a valid file type."])])
        }
        return value
    }

    /// The part's filename without directory components or control characters.
    static func sanitizedName(_ filename: String?) -> String {
        let base = (filename ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
        guard !cleaned.isEmpty, cleaned != ".", cleaned != ".." else { return "file" }
        return String(cleaned.prefix(255))
    }

    static func tooLarge(_ limit: Int64) -> APIError {
        APIError(.contentTooLarge, detail: "File too large: the limit is \(limit) bytes.")
    }
}

/// Which form part the upload parser is in.
private enum UploadPart {
    case none, file, typeId, ignored
}
