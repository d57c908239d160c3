import Foundation
import Hummingbird
import SimforgeModels
import SimforgeServer

/// The output files of a job: `jobs/{id}/files/` and `jobs/{id}/runs/{runId}/files/`
/// (paginated, `search` on the relative path). Only the caller's own jobs' files appear.
struct JobFilesController<Repository: FileRepository> {
    let repository: Repository

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/jobs/{jobId}/files", use: self.list)
        group.get("/jobs/{jobId}/runs/{runId}/files", use: self.list)
    }

    @Sendable func list(_ request: Request, context: SimforgeRequestContext) async throws -> Page<File> {
        let owner = try context.requireUserId()
        let page = try PageRequest(request: request)
        let (count, files) = try await self.repository.outputs(
            owner: owner, jobId: try context.parameters.require("jobId"), runId: context.parameters.get("runId"),
            search: request.uri.queryParameters["search"].map(String.init), page: page, logger: context.logger)
        let apiBase = PublicURL.apiBase(userId: owner, for: request)
        return try page.page(count: count, results: files.map { $0.wire(apiBase: apiBase) }, for: request)
    }
}
