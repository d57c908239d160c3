import Foundation
import Hummingbird
import SimforgeModels
import SimforgeServer

/// The output files of a job: `jobs/{id}/files/` and `jobs/{id}/runs/{runId}/files/`
/// (paginated, `search` on the relative path). A job (or run) that is not the caller's, or
/// does not exist, is 404 like everywhere else: the jobs service says which exist.
struct JobFilesController<Repository: FileRepository> {
    let repository: Repository
    /// The jobs service's internal routes.
    let jobs: InternalClient

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/jobs/{jobId}/files", use: self.list)
        group.get("/jobs/{jobId}/runs/{runId}/files", use: self.list)
    }

    @Sendable func list(_ request: Request, context: SimforgeRequestContext) async throws -> Page<File> {
        let owner = try context.requireUserId()
        let page = try PageRequest(request: request)
        let search = try request.queryText("search")
        let jobId = try context.parameters.require("jobId")
        let runId = context.parameters.get("runId")
        try await self.requireExists(owner: owner, jobId: jobId, runId: runId, context: context)
        let (count, files) = try await self.repository.outputs(
            owner: owner, jobId: jobId, runId: runId, search: search, page: page, logger: context.logger)
        let apiBase = PublicURL.apiBase(userId: owner, context: context)
        return try page.page(count: count, results: files.map { $0.wire(apiBase: apiBase) }, for: request, context: context)
    }

    private func requireExists(owner: String, jobId: String, runId: String?, context: SimforgeRequestContext) async throws {
        let ids = [owner, jobId] + (runId.map { [$0] } ?? [])
        guard ids.allSatisfy({ $0.wholeMatch(of: /[A-Za-z0-9_-]{1,64}/) != nil }) else { throw APIError.notFound() }
        let path = "/internal/owners/\(owner)/jobs/\(jobId)" + (runId.map { "/runs/\($0)" } ?? "")
        guard try await self.jobs.get(path, as: FoundJob.self, logger: context.logger) != nil else { throw APIError.notFound() }
    }
}

/// What the jobs service answers when the job or run exists.
private struct FoundJob: Decodable {
    var id: String
}
