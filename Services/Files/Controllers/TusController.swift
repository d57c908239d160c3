import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFileSystem
import SimforgeModels
import SimforgeServer

/// Resumable uploads, tus 1.0.0 core + creation + termination, under `files/uploads/`.
/// Creating an upload creates the File (not uploaded yet, `isUploaded: false`); the
/// upload's id is the file's id. PATCHes append encrypted chunks to a staging file and
/// record the offset only once those bytes are synced, so a cut transfer resumes at the
/// server's offset. The last byte turns the staged chunks into the file's blob through
/// the same MD5 and encryption path as a multipart upload.
struct TusController<Repository: FileRepository> {
    let repository: Repository
    let store: BlobStore
    let staging: UploadStaging
    let keyring: MasterKeyring
    let maxUploadBytes: Int64
    let expiry: Duration
    let leases: UploadLease<Repository>

    static var version: String { "1.0.0" }

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.on("/files/uploads", method: .options, use: self.options)
        group.post("/files/uploads", use: self.create)
        group.head("/files/uploads/{id}", use: self.head)
        group.patch("/files/uploads/{id}", use: self.patch)
        group.delete("/files/uploads/{id}", use: self.terminate)
    }

    @Sendable func options(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        Response(status: .noContent, headers: [
            HTTPField.Name.tusResumable: Self.version, HTTPField.Name("Tus-Version")!: Self.version,
            HTTPField.Name("Tus-Extension")!: "creation,termination", HTTPField.Name("Tus-Max-Size")!: String(self.maxUploadBytes),
        ])
    }

    @Sendable func create(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        try Self.checkVersion(request)
        guard let lengthText = request.headers[HTTPField.Name.uploadLength], let length = Int64(lengthText), length >= 0 else {
            throw APIError.badRequest("Upload-Length is required: a non-negative integer.")
        }
        guard length <= self.maxUploadBytes else { throw UploadRules.tooLarge(self.maxUploadBytes) }
        let metadata = try Self.metadata(request.headers[HTTPField.Name.uploadMetadata])
        let name = UploadRules.sanitizedName(metadata["filename"] ?? metadata["name"])
        let typeId = try UploadRules.typeId(metadata["typeId"] ?? metadata["type_id"])
        let fileID = ShortID.make()
        let blobName = BlobStore.newBlobName()
        let file = StoredFile(
            id: fileID, owner: owner, typeId: typeId, name: name, relativePath: name,
            storagePath: StoredFile.storagePath(owner: owner, name: name, blobName: blobName), blobName: blobName,
            wrappedKey: try self.keyring.wrap(SymmetricKey(size: .bits256)), decryptedSize: length, md5: nil,
            isUploaded: false, viewInBrowser: false, jobId: nil, runId: nil, dateUploaded: Date())
        let expiresAt = Date().addingTimeInterval(TimeInterval(self.expiry.components.seconds))
        try await self.repository.createUpload(file, length: length, expiresAt: expiresAt, logger: context.logger)
        var headers = Self.baseHeaders(expiresAt: expiresAt)
        headers[.location] = PublicURL.apiBase(userId: owner, context: context) + "files/uploads/\(fileID)"
        headers[HTTPField.Name.fileIDHeader] = fileID
        if length == 0 {
            try await self.complete(file, state: UploadState(length: 0, offset: 0, stagedBytes: 0, expiresAt: expiresAt), logger: context.logger)
        }
        return Response(status: .created, headers: headers)
    }

    @Sendable func head(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let (file, state) = try await self.upload(request, context: context)
        var headers = Self.baseHeaders(expiresAt: state?.expiresAt)
        headers[HTTPField.Name.uploadOffset] = String(state?.offset ?? file.decryptedSize)
        headers[HTTPField.Name.uploadLength] = String(state?.length ?? file.decryptedSize)
        headers[HTTPField.Name.fileIDHeader] = file.id
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers)
    }

    @Sendable func patch(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        try Self.checkVersion(request)
        guard request.headers[.contentType]?.lowercased() == "application/offset+octet-stream" else {
            throw APIError(.unsupportedMediaType, detail: "Content-Type must be application/offset+octet-stream.")
        }
        guard let offsetText = request.headers[HTTPField.Name.uploadOffset], let clientOffset = Int64(offsetText), clientOffset >= 0 else {
            throw APIError.badRequest("Upload-Offset is required: a non-negative integer.")
        }
        let (file, found) = try await self.upload(request, context: context)
        guard found != nil else { throw APIError(.conflict, detail: "The upload is already complete.") }
        let logger = context.logger
        return try await self.leases.holding(file.id, logger: logger) { writer in
            try await self.patchLeased(request, file: file, clientOffset: clientOffset, writer: writer, logger: logger)
        }
    }

    private func patchLeased(_ request: Request, file: StoredFile, clientOffset: Int64, writer: String, logger: Logger) async throws -> Response {
        // Read under the lease: another PATCH may have moved the offset.
        guard let state = try await self.repository.upload(id: file.id, owner: file.owner, logger: logger)?.state else {
            throw APIError(.conflict, detail: "The upload is already complete.")
        }
        guard clientOffset == state.offset else {
            throw APIError(.conflict, detail: "Upload-Offset \(clientOffset) does not match the server's offset \(state.offset).",
                           headers: [HTTPField.Name.tusResumable: Self.version, HTTPField.Name.uploadOffset: String(state.offset)])
        }
        guard state.expiresAt > Date() else { throw APIError(.gone, detail: "The upload expired.") }

        let newState = try await self.append(request.body, to: file, state: state, writer: writer, logger: logger)
        var headers = Self.baseHeaders(expiresAt: state.expiresAt)
        headers[HTTPField.Name.uploadOffset] = String(newState.offset)
        headers[HTTPField.Name.fileIDHeader] = file.id
        if newState.offset == newState.length {
            try await self.complete(file, state: newState, logger: logger)
        }
        return Response(status: .noContent, headers: headers)
    }

    @Sendable func terminate(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        try Self.checkVersion(request)
        let (file, state) = try await self.upload(request, context: context)
        guard state != nil else { throw APIError(.conflict, detail: "The upload is complete: delete the file instead.") }
        _ = try await self.repository.delete(id: file.id, owner: file.owner, logger: context.logger)
        await self.staging.delete(file.id)
        return Response(status: .noContent, headers: [HTTPField.Name.tusResumable: Self.version])
    }

    // MARK: - Steps

    /// Appends the body as sealed chunks; on a cut connection or a stalled body keeps what
    /// arrived (the client resumes at the new offset).
    private func append(_ body: RequestBody, to file: StoredFile, state: UploadState, writer: String, logger: Logger) async throws -> UploadState {
        let key = try self.keyring.unwrap(file.wrappedKey)
        var offset = state.offset
        var staged = state.stagedBytes
        var plaintext = ByteBuffer()
        plaintext.reserveCapacity(UploadStaging.chunkSize)
        var sealed = ByteBuffer()
        var tooLong = false
        var interruption: APIError?  // the body stopped arriving (408): answered once what arrived is kept
        try await FileSystem.shared.withFileHandle(
            forWritingAt: self.staging.path(of: file.id), options: .modifyFile(createIfNecessary: true)
        ) { handle in
            try await handle.resize(to: .bytes(staged))  // drop a chunk half-written before a crash
            var writeback = Writeback(from: staged)
            func sealPlaintext() throws {
                guard plaintext.readableBytes > 0 else { return }
                try plaintext.withUnsafeReadableBytes {
                    try UploadStaging.seal($0, offset: offset, key: key, fileID: file.id, into: &sealed)
                }
                offset += Int64(plaintext.readableBytes)
                plaintext.clear()
            }
            func writeSealed() async throws {
                guard sealed.readableBytes > 0 else { return }
                try await handle.write(contentsOf: sealed.readableBytesView, toAbsoluteOffset: staged)
                staged += Int64(sealed.readableBytes)
                sealed.clear()
                await writeback.wrote(upTo: staged, on: handle)
            }
            do {
                for try await var buffer in body {
                    while buffer.readableBytes > 0 {
                        let left = state.length - offset - Int64(plaintext.readableBytes)
                        let take = Int(min(Int64(UploadStaging.chunkSize - plaintext.readableBytes), Int64(buffer.readableBytes), left))
                        guard take > 0 else {
                            tooLong = true
                            break
                        }
                        var slice = buffer.readSlice(length: take)!
                        plaintext.writeBuffer(&slice)
                        if plaintext.readableBytes == UploadStaging.chunkSize { try sealPlaintext() }
                    }
                    if tooLong { break }
                    if sealed.readableBytes >= 1024 * 1024 { try await writeSealed() }
                }
            } catch {
                logger.info("upload PATCH cut short; keeping what arrived", metadata: ["files.id": "\(file.id)"])
                interruption = error as? APIError
            }
            try sealPlaintext()
            try await writeSealed()
            try await handle.synchronize()
        }
        guard try await self.repository.recordProgress(
            id: file.id, writer: writer, from: state.offset, offset: offset, stagedBytes: staged, logger: logger)
        else { throw UploadLease<Repository>.lost }
        if let interruption { throw interruption }
        if tooLong {
            throw APIError(.contentTooLarge, detail: "The body goes past Upload-Length; the bytes up to it were kept.")
        }
        return UploadState(length: state.length, offset: offset, stagedBytes: staged, expiresAt: state.expiresAt)
    }

    /// Replays the staged chunks into the file's blob, then marks the file uploaded.
    private func complete(_ file: StoredFile, state: UploadState, logger: Logger) async throws {
        let key = try self.keyring.unwrap(file.wrappedKey)
        let ingest = try await BlobIngest(store: self.store, fileID: file.id, blobName: file.blobName, dataKey: key, limit: state.length)
        do {
            let replayed = try await self.staging.replay(
                fileID: file.id, stagedBytes: state.stagedBytes, key: key,
                emit: { try ingest.absorb($0) }, flush: { try await ingest.flushIfNeeded() })
            guard replayed == state.length else { throw BlobIntegrityError("staged \(replayed) bytes, expected \(state.length)") }
            let md5 = try await ingest.finish()
            try await self.repository.completeUpload(id: file.id, md5: md5, logger: logger)
        } catch {
            await ingest.abandon()
            throw error
        }
        await self.staging.delete(file.id)
        logger.info("resumable upload complete", metadata: ["files.id": "\(file.id)", "files.size": "\(state.length)"])
    }

    // MARK: - Helpers

    private func upload(_ request: Request, context: SimforgeRequestContext) async throws -> (StoredFile, UploadState?) {
        let owner = try context.requireUserId()
        guard let found = try await self.repository.upload(id: try context.parameters.require("id"), owner: owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        return (found.file, found.state)
    }

    private static func checkVersion(_ request: Request) throws {
        guard request.headers[HTTPField.Name.tusResumable] == Self.version else {
            throw APIError(.preconditionFailed, detail: "Tus-Resumable: \(Self.version) is required.",
                           headers: [HTTPField.Name("Tus-Version")!: Self.version])
        }
    }

    private static func baseHeaders(expiresAt: Date?) -> HTTPFields {
        var headers: HTTPFields = [HTTPField.Name.tusResumable: Self.version]
        if let expiresAt {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            headers[HTTPField.Name.uploadExpires] = formatter.string(from: expiresAt)
        }
        return headers
    }

    /// `Upload-Metadata`: comma-separated `key base64value` pairs.
    static func metadata(_ header: String?) throws -> [String: String] {
        var metadata: [String: String] = [:]
        for pair in (header ?? "").split(separator: ",") {
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            guard let key = parts.first else { continue }
            if parts.count == 1 {
                metadata[String(key)] = ""
                continue
            }
            guard let data = Data(base64Encoded: String(parts[1])), let value = String(data: data, encoding: .utf8) else {
                throw APIError.badRequest("Upload-Metadata values must be base64-encoded UTF-8.")
            }
            metadata[String(key)] = value
        }
        return metadata
    }
}

/// One writer per upload at a time, across replicas: a lease on the upload's row in
/// PostgreSQL that the writing request renews while it runs. A replica that dies mid-PATCH
/// leaves a lease that runs out after ``duration``; then another request may resume.
struct UploadLease<Repository: FileRepository>: Sendable {
    let repository: Repository
    static var duration: Duration { .seconds(30) }
    static var renewal: Duration { .seconds(10) }

    /// Runs `body` with a writer id while holding `id`'s lease; 409 when another request
    /// holds it. Losing the lease (this process could not renew it in time) cancels `body`.
    func holding<Result: Sendable>(
        _ id: String, logger: Logger, _ body: @escaping @Sendable (_ writer: String) async throws -> Result
    ) async throws -> Result {
        let writer = UUID().uuidString
        guard try await self.repository.claimUpload(id: id, writer: writer, for: Self.duration, logger: logger) else {
            throw APIError(.conflict, detail: "Another request is writing to this upload.")
        }
        do {
            let result = try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask { try await body(writer) }
                group.addTask {
                    while true {
                        try await Task.sleep(for: Self.renewal)
                        guard try await self.repository.renewUpload(id: id, writer: writer, for: Self.duration, logger: logger) else {
                            throw UploadLease.lost
                        }
                    }
                }
                defer { group.cancelAll() }
                // The renewal never returns: the first result is the body's.
                return try await group.next() ?? nil
            }
            try await self.repository.releaseUpload(id: id, writer: writer, logger: logger)
            return result!
        } catch {
            try? await self.repository.releaseUpload(id: id, writer: writer, logger: logger)
            throw error
        }
    }

    static var lost: APIError { APIError(.conflict, detail: "Another request took over this upload.") }
}

extension HTTPField.Name {
    static let tusResumable = HTTPField.Name("Tus-Resumable")!
    static let uploadLength = HTTPField.Name("Upload-Length")!
    static let uploadOffset = HTTPField.Name("Upload-Offset")!
    static let uploadMetadata = HTTPField.Name("Upload-Metadata")!
    static let uploadExpires = HTTPField.Name("Upload-Expires")!
    /// The File an upload creates (the upload's id is the file's id).
    static let fileIDHeader = HTTPField.Name("Simforge-File-ID")!
}
