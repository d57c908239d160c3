import Foundation
import Hummingbird
import Logging
import SimforgeModels
import SimforgeServer

/// The side of the jobs service that runs' agents talk to, with their job's token
/// (`X-Job-Token`):
///
///     GET  /internal/jobs/{jobId}                       the job (analyses, hardware, files)
///     GET  /internal/jobs/{jobId}/runs/{runId}          the run (its variables)
///     POST /internal/jobs/{jobId}/runs/{runId}/events   what it reports (``RunEvent``)
///     POST /internal/jobs/{jobId}/runs/{runId}/heartbeat  that it is alive; answers
///                                                      `{"stop": true}` once the run should stop
///
/// Each event moves the run one step of the lifecycle; repeating the last event is
/// harmless, skipping ahead or going back is 409.
struct AgentEventController<Repository: JobRepository> {
    let repository: Repository
    let lifecycle: JobLifecycle

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get(use: self.job)
        group.get("/runs/{runId}", use: self.run)
        group.post("/runs/{runId}/events", use: self.report)
        group.post("/runs/{runId}/heartbeat", use: self.heartbeat)
    }

    struct HeartbeatAnswer: ResponseEncodable {
        var stop: Bool
    }

    @Sendable func job(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let scope = try context.requireJobScope()
        guard let job = try await self.repository.job(id: scope.jobId, owner: scope.owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        return try Response.json(JobRendering.render(job.spec, apiBase: PublicURL.apiBase(userId: job.owner, context: context)))
    }

    @Sendable func run(_ request: Request, context: SimforgeRequestContext) async throws -> Run {
        let scope = try context.requireJobScope()
        guard let run = try await self.repository.run(
            jobId: scope.jobId, runId: try context.parameters.require("runId"), owner: scope.owner, logger: context.logger)
        else { throw APIError.notFound() }
        return run.wire
    }

    @Sendable func heartbeat(_ request: Request, context: SimforgeRequestContext) async throws -> HeartbeatAnswer {
        let scope = try context.requireJobScope()
        guard let (run, job) = try await self.repository.heartbeat(
            jobId: scope.jobId, runId: try context.parameters.require("runId"), owner: scope.owner, logger: context.logger)
        else { throw APIError.notFound() }
        return HeartbeatAnswer(stop: run == .stopping || run == .completed || job == .stopping || job == .completed)
    }

    @Sendable func report(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let scope = try context.requireJobScope()
        let runId = try context.parameters.require("runId")
        let event = try await RequestJSON.decode(RunEvent.self, from: request, context: context)
        guard let job = try await self.repository.job(id: scope.jobId, owner: scope.owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        switch try await self.lifecycle.record(
            event, jobId: scope.jobId, runId: runId, owner: scope.owner, analysisCount: job.spec.jobanalyses.count, logger: context.logger
        ) {
        case .applied(_, let moved) where !moved.isEmpty:
            return Response(status: .ok)
        case .applied:
            guard let run = try await self.repository.run(jobId: scope.jobId, runId: runId, owner: scope.owner, logger: context.logger) else {
                throw APIError.notFound()
            }
            let target = Lifecycle.transition(for: event.type).to
            if run.state == target { return Response(status: .ok) }
            throw APIError(.conflict, detail: "A \(event.type.rawValue) event does not follow \(run.state.statusName ?? "an unsubmitted run").")
        case .notFound:
            throw APIError.notFound()
        }
    }
}
