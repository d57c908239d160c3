import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SimforgeModels
import SimforgeServer

/// What a job's agent may do with files, with its job token (`X-Job-Token`): read its
/// owner's input files (metadata and plaintext) and store the run's outputs.
///
///     GET  /internal/jobs/{jobId}/files/{fileId}
///     GET  /internal/jobs/{jobId}/files/{fileId}/contents
///     POST /internal/jobs/{jobId}/outputs?runId=1&relativePath=dir/result.csv   (raw body)
struct InternalFilesController<Repository: FileRepository> {
    let repository: Repository
    let store: BlobStore
    let keyring: MasterKeyring
    let maxUploadBytes: Int64

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/files/{fileId}", use: self.file)
        group.get("/files/{fileId}/contents", use: self.contents)
        group.post("/outputs", use: self.storeOutput)
    }

    @Sendable func file(_ request: Request, context: SimforgeRequestContext) async throws -> File {
        let scope = try context.requireJobScope()
        return try await self.input(context).wire(apiBase: PublicURL.apiBase(userId: scope.owner, context: context))
    }

    @Sendable func contents(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        try FileDownload(file: try await self.input(context), store: self.store, keyring: self.keyring)
            .response(for: request, logger: context.logger)
    }

    @Sendable func storeOutput(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let scope = try context.requireJobScope()
        let query = request.uri.queryParameters
        guard let runId = query["runId"].map(String.init), runId.wholeMatch(of: /[A-Za-z0-9_-]{1,64}/) != nil else {
            throw APIError.validation(["runId": .messages(["A run id is required."])])
        }
        guard let relativePath = query["relativePath"].map(String.init), let path = RelativePath.normalized(relativePath) else {
            throw APIError.validation(["relativePath": .messages(["A relative path inside the working directory is required."])])
        }
        let name = String(path.split(separator: "/").last!)
        let ingest = try await BlobIngest(store: self.store, fileID: ShortID.make(), limit: self.maxUploadBytes)
        do {
            for try await buffer in request.body {
                try buffer.withUnsafeReadableBytes { try ingest.absorb($0) }
                try await ingest.flushIfNeeded()
            }
            let md5 = try await ingest.finish()
            let file = StoredFile(
                id: ingest.fileID, owner: scope.owner, typeId: File.TypeID.output, name: name, relativePath: path,
                storagePath: StoredFile.outputPath(owner: scope.owner, jobId: scope.jobId, runId: runId, relativePath: path),
                blobName: ingest.blobName,
                wrappedKey: try self.keyring.wrap(ingest.dataKey), decryptedSize: ingest.size, md5: md5, isUploaded: true,
                viewInBrowser: false, jobId: scope.jobId, runId: runId, dateUploaded: Date())
            try await self.repository.insertCommitted(file, store: self.store, logger: context.logger)
            return try Response.json(file.wire(apiBase: PublicURL.apiBase(userId: scope.owner, context: context)), status: .created)
        } catch let error as BlobIngest.TooLarge {
            await ingest.abandon()
            throw UploadRules.tooLarge(error.limit)
        } catch {
            await ingest.abandon()
            throw error
        }
    }

    /// An input of the job: a file of the job's owner, fully uploaded.
    private func input(_ context: SimforgeRequestContext) async throws -> StoredFile {
        let scope = try context.requireJobScope()
        guard let file = try await self.repository.file(id: try context.parameters.require("fileId"), owner: scope.owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        return file
    }

    /// `a/./b//c.txt` → `a/b/c.txt`; `nil` for empty, absolute or escaping paths.
}
