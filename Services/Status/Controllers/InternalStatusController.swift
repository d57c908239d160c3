import Hummingbird
import SimforgeModels
import SimforgeServer

/// Internal routes for the jobs service's outbox relay (internal token):
///
///     POST   /internal/statuses       [JobStatusEvent]  → {"stored": n}; redeliveries are ignored
///     PUT    /internal/jobs/{jobId}   JobRegistration   → 204
///     DELETE /internal/jobs/{jobId}                     → 204
struct InternalStatusController<Repository: StatusRepository> {
    let repository: Repository

    struct Stored: ResponseEncodable {
        var stored: Int
    }

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.post("/statuses", use: self.store)
        group.put("/jobs/{jobId}", use: self.register)
        group.delete("/jobs/{jobId}", use: self.forget)
    }

    @Sendable func store(_ request: Request, context: SimforgeRequestContext) async throws -> Stored {
        let events = try await RequestJSON.decode([JobStatusEvent].self, from: request, context: context)
        let unknown = events.filter { !JobStatus.Value.all.contains($0.status) }.map(\.status)
        guard unknown.isEmpty else { throw APIError.badRequest("Unknown status values: \(unknown).") }
        return Stored(stored: try await self.repository.store(events, logger: context.logger))
    }

    @Sendable func register(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let job = try await RequestJSON.decode(JobRegistration.self, from: request, context: context)
        guard job.jobId == (try context.parameters.require("jobId")) else {
            throw APIError.validation(["jobId": .messages(["Does not match the path."])])
        }
        try await self.repository.register(job, logger: context.logger)
        return Response(status: .noContent)
    }

    @Sendable func forget(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        try await self.repository.forget(jobId: try context.parameters.require("jobId"), logger: context.logger)
        return Response(status: .noContent)
    }
}
