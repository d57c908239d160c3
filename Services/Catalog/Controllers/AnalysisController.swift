import Hummingbird
import SimforgeModels
import SimforgeServer

/// `analyses/` and `analyses/{code}/`.
struct AnalysisController<Repository: CatalogRepository> {
    let repository: Repository

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/analyses", use: self.list)
        group.get("/analyses/{code}", use: self.get)
    }

    @Sendable func list(_ request: Request, context: SimforgeRequestContext) async throws -> Page<Analysis> {
        let page = try PageRequest(request: request)
        let (count, analyses) = try await self.repository.analyses(
            search: try request.queryText("search"), code: try request.queryText("code"), page: page, logger: context.logger)
        return try page.page(count: count, results: analyses, for: request, context: context)
    }

    @Sendable func get(_ request: Request, context: SimforgeRequestContext) async throws -> Analysis {
        let code = try context.parameters.require("code")
        guard let analysis = try await self.repository.analysis(code: code, logger: context.logger) else {
            throw APIError.notFound("Analysis '\(code)' not found.")
        }
        return analysis
    }
}
