import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SimforgeModels
import SimforgeServer

/// `files/`, `files/{id}/` (GET, PATCH, DELETE), `files/{id}/contents/`, `files/{id}/lines/`.
struct FileController<Repository: FileRepository> {
    let repository: Repository
    let store: BlobStore
    let keyring: MasterKeyring

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/files", use: self.list)
        group.get("/files/{id}", use: self.get)
        group.patch("/files/{id}", use: self.patch)
        group.delete("/files/{id}", use: self.delete)
        group.get("/files/{id}/contents", use: self.contents)
        group.get("/files/{id}/lines", use: self.lines)
    }

    @Sendable func list(_ request: Request, context: SimforgeRequestContext) async throws -> Page<File> {
        let owner = try context.requireUserId()
        let page = try PageRequest(request: request)
        let query = request.uri.queryParameters
        let typeId = try query["typeId"].map { text -> Int in
            guard let value = Int(String(text)), File.TypeID.all.contains(value) else {
                throw APIError.validation(["typeId": .messages(["\"\(text.prefix(32))\" is not a valid file type."])])
            }
            return value
        }
        let (count, files) = try await self.repository.files(
            owner: owner, search: try request.queryText("search"), typeId: typeId, page: page, logger: context.logger)
        let apiBase = PublicURL.apiBase(userId: owner, context: context)
        return try page.page(count: count, results: files.map { $0.wire(apiBase: apiBase) }, for: request, context: context)
    }

    @Sendable func get(_ request: Request, context: SimforgeRequestContext) async throws -> File {
        let owner = try context.requireUserId()
        return try await self.stored(request, context: context).wire(apiBase: PublicURL.apiBase(userId: owner, context: context))
    }

    /// The fields a PATCH may change; each may be left out, none may be null.
    struct FilePatch: Codable {
        var name: String?
        var typeId: Int?

        private enum CodingKeys: String, CodingKey { case name, typeId }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try Self.value(String.self, container, .name)
            self.typeId = try Self.value(Int.self, container, .typeId)
        }

        private static func value<Value: Decodable>(
            _ type: Value.Type, _ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys
        ) throws -> Value? {
            guard container.contains(key) else { return nil }
            return try container.decode(type, forKey: key)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(self.name, forKey: .name)
            try container.encodeIfPresent(self.typeId, forKey: .typeId)
        }
    }

    @Sendable func patch(_ request: Request, context: SimforgeRequestContext) async throws -> File {
        let owner = try context.requireUserId()
        let id = try context.parameters.require("id")
        let patch = try await RequestJSON.decode(FilePatch.self, from: request, context: context)
        var errors: [String: FieldErrors] = [:]
        if let name = patch.name, !UploadRules.isValidName(name) {
            errors["name"] = .messages(["A file name is 1 to 255 characters, without '/', '\\' or control characters."])
        }
        if let typeId = patch.typeId, !File.TypeID.all.contains(typeId) {
            errors["typeId"] = .messages(["\"\(typeId)\" is not a valid file type."])
        }
        guard errors.isEmpty else { throw APIError.validation(errors) }
        guard let updated = try await self.repository.update(id: id, owner: owner, name: patch.name, typeId: patch.typeId, logger: context.logger) else {
            throw APIError.notFound()
        }
        return updated.wire(apiBase: PublicURL.apiBase(userId: owner, context: context))
    }

    @Sendable func delete(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        guard let deleted = try await self.repository.delete(id: try context.parameters.require("id"), owner: owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        do {
            try await self.store.delete(deleted.blobName)
        } catch {
            // The row is gone, so nobody can reach the blob; it only wastes space.
            context.logger.error("could not remove blob", metadata: ["files.blob": "\(deleted.blobName)", "error": "\(error)"])
        }
        return Response(status: .noContent)
    }

    @Sendable func contents(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let file = try await self.stored(request, context: context)
        return try FileDownload(file: file, store: self.store, keyring: self.keyring).response(for: request, logger: context.logger)
    }

    @Sendable func lines(_ request: Request, context: SimforgeRequestContext) async throws -> [String: [String]] {
        let file = try await self.stored(request, context: context)
        let count = try TextTail.count(request.uri.queryParameters["lines"])
        let lines = try await TextLines(file: file, store: self.store, keyring: self.keyring).read(last: count, logger: context.logger)
        return ["lines": lines]
    }

    private func stored(_ request: Request, context: SimforgeRequestContext) async throws -> StoredFile {
        let owner = try context.requireUserId()
        guard let file = try await self.repository.file(id: try context.parameters.require("id"), owner: owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        return file
    }
}
