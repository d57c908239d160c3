import Hummingbird
import SimforgeModels
import SimforgeServer

/// `coretypes/` and `coretypes/{code}/`.
struct CoreTypeController<Repository: CatalogRepository> {
    let repository: Repository

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/coretypes", use: self.list)
        group.get("/coretypes/{code}", use: self.get)
    }

    @Sendable func list(_ request: Request, context: SimforgeRequestContext) async throws -> Page<CoreType> {
        let page = try PageRequest(request: request)
        let isActive = try request.uri.queryParameters["isActive"].map { try Self.parseBoolean(String($0), name: "isActive") }
        let (count, coreTypes) = try await self.repository.coreTypes(isActive: isActive, page: page, logger: context.logger)
        return try page.page(count: count, results: coreTypes, for: request, context: context)
    }

    @Sendable func get(_ request: Request, context: SimforgeRequestContext) async throws -> CoreType {
        let code = try context.parameters.require("code")
        guard let coreType = try await self.repository.coreType(code: code, logger: context.logger) else {
            throw APIError.notFound("Core type '\(code)' not found.")
        }
        return coreType
    }

    /// DRF's boolean filter spellings.
    static func parseBoolean(_ text: String, name: String) throws -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError.validation([name: .messages(["Must be a boolean (true or false)."])])
        }
    }
}
