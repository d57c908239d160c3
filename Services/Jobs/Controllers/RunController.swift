import Foundation
import HTTPTypes
import Hummingbird
import SimforgeModels
import SimforgeServer

/// A job's runs and what the compute side knows: `runs/`, `runs/{runId}/`, stopping one
/// run, a running run's working directory (`directory-contents/`) and files (`tail/`),
/// and `cluster_statuses/`.
struct RunController<Repository: JobRepository> {
    let repository: Repository
    let lifecycle: JobLifecycle
    /// The runs' working directories; `nil` without a compute backend.
    let workspaces: RunWorkspaces?

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/jobs/{id}/runs", use: self.runs)
        group.get("/jobs/{id}/runs/{runId}", use: self.run)
        group.post("/jobs/{id}/runs/{runId}/stop", use: self.stop)
        group.get("/jobs/{id}/runs/{runId}/directory-contents", use: self.directoryContents)
        group.get("/jobs/{id}/runs/{runId}/tail/**", use: self.tail)
        group.get("/jobs/{id}/cluster_statuses", use: self.clusterStatuses)
    }

    @Sendable func runs(_ request: Request, context: SimforgeRequestContext) async throws -> Page<Run> {
        let page = try PageRequest(request: request)
        guard let (count, runs) = try await self.repository.runs(
            jobId: try context.parameters.require("id"), owner: try context.requireUserId(), page: page, logger: context.logger)
        else { throw APIError.notFound() }
        return try page.page(count: count, results: runs.map(\.wire), for: request, context: context)
    }

    @Sendable func run(_ request: Request, context: SimforgeRequestContext) async throws -> Run {
        try await self.stored(context).wire
    }

    /// 202: the run stops, the job's other runs go on; 409 when it is not running.
    @Sendable func stop(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let run = try await self.stored(context)
        guard run.state.isActive && run.state != .stopping else { throw APIError(.conflict, detail: "The run is not running.") }
        _ = try await self.lifecycle.stop(
            jobId: run.jobId, owner: try context.requireUserId(), runs: [run.id], logger: context.logger)
        return try Response.json(JSONValue.object([]), status: .accepted)
    }

    /// The running run's working directory: every regular file, with its path, size and the
    /// URL of its contents (links are not followed).
    @Sendable func directoryContents(_ request: Request, context: SimforgeRequestContext) async throws -> [RunWorkspaces.Entry] {
        let run = try await self.runningRun(context)
        let tailBase = PublicURL.apiBase(userId: try context.requireUserId(), context: context) + "jobs/\(run.jobId)/runs/\(run.id)/tail/"
        return try self.workspaces!.contents(of: run, tailBase: tailBase)
    }

    /// A file of the running run's working directory: its bytes, or with `?lines=N` its
    /// last N lines as `{"fileType", "lines"}`.
    @Sendable func tail(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let run = try await self.runningRun(context)
        let path = context.parameters.getCatchAll().joined(separator: "/")
        if let count = try TextTail.count(request.uri.queryParameters["lines"]) {
            return try Response.json(try await self.workspaces!.lines(of: run, path: path, last: count))
        }
        return try self.workspaces!.contents(of: run, path: path)
    }

    @Sendable func clusterStatuses(_ request: Request, context: SimforgeRequestContext) async throws -> Page<JobStatus> {
        let page = try PageRequest(request: request)
        guard let (count, statuses) = try await self.repository.clusterStatuses(
            jobId: try context.parameters.require("id"), owner: try context.requireUserId(), page: page, logger: context.logger)
        else { throw APIError.notFound() }
        return try page.page(count: count, results: statuses, for: request, context: context)
    }

    // MARK: - Helpers

    private func stored(_ context: SimforgeRequestContext) async throws -> StoredRun {
        guard let run = try await self.repository.run(
            jobId: try context.parameters.require("id"), runId: try context.parameters.require("runId"), owner: try context.requireUserId(),
            logger: context.logger)
        else { throw APIError.notFound() }
        return run
    }

    /// A run whose working directory exists: its agent runs it.
    private func runningRun(_ context: SimforgeRequestContext) async throws -> StoredRun {
        let run = try await self.stored(context)
        guard self.workspaces != nil, JobState.running.contains(run.state) else {
            throw APIError(.conflict, detail: "The run is not running: its files are in its output files.")
        }
        return run
    }
}
