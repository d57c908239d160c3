import Foundation
import Hummingbird
import Logging
import SimforgeModels
import SimforgeServer

/// The job's agent's side of the jobs service, with the job's token (`X-Job-Token`):
///
///     GET  /internal/jobs/{jobId}          the job to run (command, environment variables,
///                                          hardware, input files)
///     POST /internal/jobs/{jobId}/events   what it reports (or a compute backend on its behalf)
///     POST /internal/jobs/{jobId}/heartbeat  that it is alive; answers `{"stop": true}` once
///                                          the job should stop (stop requested, or ended)
///
/// Each event moves the job one step of the lifecycle; repeating the last event is
/// harmless, skipping ahead or going back is 409.
struct AgentEventController<Repository: JobRepository> {
    let repository: Repository
    let relay: OutboxRelay

    struct Event: Decodable {
        enum Kind: String, Decodable {
            case started = "Started"
            case validated = "Validated"
            case executing = "Executing"
            case finished = "Finished"
        }

        var type: Kind
        /// `Executing`: when the command started (default now).
        var runStarted: Date?
        /// `Finished`: the command's exit code (none when it never ran).
        var exitCode: Int?
        /// `Finished`: why, when not a plain exit ("Exceeded walltime", "Could not start: ...").
        var reason: String?
        var outputFileCount: Int?
        var outputFileSize: Int64?
    }

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get(use: self.job)
        group.post("/events", use: self.report)
        group.post("/heartbeat", use: self.heartbeat)
    }

    struct HeartbeatAnswer: ResponseEncodable {
        var stop: Bool
    }

    @Sendable func heartbeat(_ request: Request, context: SimforgeRequestContext) async throws -> HeartbeatAnswer {
        let scope = try context.requireJobScope()
        guard let state = try await self.repository.heartbeat(id: scope.jobId, owner: scope.owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        return HeartbeatAnswer(stop: state == .stopping || state == .completed)
    }

    @Sendable func job(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let scope = try context.requireJobScope()
        guard let job = try await self.repository.job(id: scope.jobId, owner: scope.owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        return try Response.json(JobController<Repository>.render(job, for: request))
    }

    @Sendable func report(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let scope = try context.requireJobScope()
        let event = try await RequestJSON.decode(Event.self, from: request, context: context)
        let (from, to, reason, run) = try await self.step(for: event, scope: scope, logger: context.logger)
        switch try await self.repository.transition(
            id: scope.jobId, owner: scope.owner, from: from, to: to, reason: reason, run: run, logger: context.logger
        ) {
        case .moved:
            await self.relay.deliverPending(within: .seconds(1))
            return Response(status: .ok)
        case .unchanged(let job) where job.state == to:
            return Response(status: .ok)
        case .unchanged(let job):
            throw APIError(.conflict, detail: "A \(event.type.rawValue) event does not follow \(job.state.statusName ?? "an unsubmitted job").")
        case .notFound:
            throw APIError.notFound()
        }
    }

    /// The transition an event asks for.
    private func step(for event: Event, scope: JobToken, logger: Logger) async throws
        -> (from: Set<JobState>, to: JobState, reason: String?, run: RunUpdate?) {
        switch event.type {
        case .started:
            return ([.pending, .queued], .started, nil, nil)
        case .validated:
            return ([.started], .validated, nil, nil)
        case .executing:
            return ([.validated], .executing, nil, RunUpdate(dateStarted: event.runStarted ?? Date()))
        case .finished:
            let job = try await self.repository.job(id: scope.jobId, owner: scope.owner, logger: logger)
            let reason = event.reason
                ?? (job?.state == .stopping ? "Stopped by user" : nil)
                ?? event.exitCode.map { $0 == 0 ? "Completed successfully" : "Command exited with code \($0)" }
                ?? "Could not start: the job ended before its command ran"
            let run = RunUpdate(
                dateCompleted: Date(), exitCode: event.exitCode, outputFileCount: event.outputFileCount, outputFileSize: event.outputFileSize)
            return ([.pending, .queued, .started, .validated, .executing, .stopping], .completed, reason, run)
        }
    }
}
