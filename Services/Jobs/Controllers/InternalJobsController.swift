import Hummingbird
import SimforgeServer

/// What other services ask of jobs, with the internal token:
///
///     GET /internal/owners/{owner}/jobs/{jobId}               200 when the owner has the job, else 404
///     GET /internal/owners/{owner}/jobs/{jobId}/runs/{runId}  the same for one of its runs
///
/// (files answers `jobs/{id}/files/` only for jobs that are the caller's.)
struct InternalJobsController<Repository: JobRepository> {
    let repository: Repository

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/owners/{owner}/jobs/{jobId}", use: self.job)
        group.get("/owners/{owner}/jobs/{jobId}/runs/{runId}", use: self.run)
    }

    struct Found: ResponseEncodable {
        var id: String
    }

    @Sendable func job(_ request: Request, context: SimforgeRequestContext) async throws -> Found {
        let jobId = try context.parameters.require("jobId")
        guard try await self.repository.job(id: jobId, owner: try context.parameters.require("owner"), logger: context.logger) != nil else {
            throw APIError.notFound()
        }
        return Found(id: jobId)
    }

    @Sendable func run(_ request: Request, context: SimforgeRequestContext) async throws -> Found {
        let runId = try context.parameters.require("runId")
        guard try await self.repository.run(
            jobId: try context.parameters.require("jobId"), runId: runId, owner: try context.parameters.require("owner"),
            logger: context.logger) != nil
        else { throw APIError.notFound() }
        return Found(id: runId)
    }
}
