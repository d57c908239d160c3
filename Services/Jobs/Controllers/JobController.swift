import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SimforgeModels
import SimforgeServer

/// The public job routes: create, list, read, change, delete, submit, stop.
struct JobController<Repository: JobRepository> {
    let repository: Repository
    let validator: JobValidator
    let planner: RunPlanner
    let lifecycle: JobLifecycle
    let relay: OutboxRelay

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.post("/jobs", use: self.create)
        group.get("/jobs", use: self.list)
        group.get("/jobs/{id}", use: self.get)
        group.patch("/jobs/{id}", use: self.patch)
        group.delete("/jobs/{id}", use: self.delete)
        group.post("/jobs/{id}/submit", use: self.submit)
        group.post("/jobs/{id}/stop", use: self.stop)
    }

    @Sendable func create(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        let input = try await RequestJSON.decode(Job.self, from: request, context: context)
        let id = ShortID.make()
        let (validated, runs) = try await self.validated(input, jobId: id, owner: owner, context: context)
        let job = StoredJob(
            id: id, owner: owner, spec: validated.job, analysisNames: validated.analysisNames, state: .created, statusReason: nil,
            lastStatusDate: nil, dateInserted: Date(), expectedRuns: runs.count)
        try await self.repository.create(job, runs: runs, logger: context.logger)
        context.logger.info("job created", metadata: ["jobs.id": "\(id)", "jobs.runs": "\(runs.count)"])
        // Registered with status before the answer, so its statuses/ is an empty page, not 404.
        await self.relay.deliverPending(within: .seconds(1))
        return try Response.json(JobRendering.render(job.spec, apiBase: PublicURL.apiBase(userId: owner, context: context)), status: .created)
    }

    @Sendable func list(_ request: Request, context: SimforgeRequestContext) async throws -> Page<JobSummary> {
        let owner = try context.requireUserId()
        let page = try PageRequest(request: request)
        let query = request.uri.queryParameters
        var errors: [String: FieldErrors] = [:]
        let completed: Bool? = query["state"].flatMap { value in
            switch value {
            case "completed": return true
            case "not_completed": return false
            default:
                errors["state"] = .messages(["Choose completed or not_completed."])
                return nil
            }
        }
        let state: JobState? = query["job_status"].flatMap { value in
            guard let state = JobState(filter: String(value)), state != .created else {
                errors["job_status"] = .messages(["Unknown status '\(value.prefix(32))'."])
                return nil
            }
            return state
        }
        guard errors.isEmpty else { throw APIError.validation(errors) }
        let (count, jobs) = try await self.repository.summaries(
            owner: owner, completed: completed, state: state, search: try request.queryText("search"), page: page, logger: context.logger)
        return try page.page(count: count, results: jobs, for: request, context: context)
    }

    /// Cached once submitted, with the answer rendered for the caller's address.
    @Sendable func get(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        let id = try context.parameters.require("id")
        guard let spec = try await self.repository.storedSpec(id: id, owner: owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        let apiBase = PublicURL.apiBase(userId: owner, context: context)
        let body = try spec.lastAnswer.body(for: apiBase) {
            var job = try JSONDecoder.simforge().decode(Job.self, from: Data(spec.text.utf8))
            job.id = id
            job.owner = owner
            return ByteBuffer(bytes: try JSONEncoder.simforge().encode(JobRendering.render(job, apiBase: apiBase)))
        }
        return Response(status: .ok, headers: [.contentType: Response.jsonContentType], body: .init(byteBuffer: body))
    }

    /// Partial: only the fields sent change. `name`, `description`, `projectId` and
    /// `isLowPriority` any time; what the job runs only before it is submitted (else 409).
    @Sendable func patch(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let current = try await self.stored(request, context: context)
        let body = try await request.body.collect(upTo: RequestJSON.defaultLimit)
        let fields = try JobPatch.fields(of: Data(buffer: body))
        // A submitted job's execution is settled whatever the new values would have been.
        guard current.state == .created || !JobPatch.changesExecution(fields) else { throw Self.alreadySubmitted }
        let patch = try JobPatch(fields, onto: current.spec)
        var changed = current
        var runs: [PlannedRun]?
        if patch.changesExecution {
            let (validated, planned) = try await self.validated(patch.job, jobId: current.id, owner: current.owner, context: context)
            changed.spec = validated.job
            changed.analysisNames = validated.analysisNames
            runs = planned
        } else {
            if let problem = JobValidator.nameProblem(patch.job.name) { throw APIError.validation(["name": .messages([problem])]) }
            changed.spec = patch.job
        }
        switch try await self.repository.update(changed, runs: runs, logger: context.logger) {
        case .done(let job):
            return try Response.json(JobRendering.render(job.spec, apiBase: PublicURL.apiBase(userId: job.owner, context: context)))
        case .notFound: throw APIError.notFound()
        case .conflict: throw Self.alreadySubmitted
        }
    }

    @Sendable func delete(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        switch try await self.repository.delete(id: try context.parameters.require("id"), owner: owner, logger: context.logger) {
        case .done:
            await self.relay.wake()
            return Response(status: .noContent)
        case .notFound: throw APIError.notFound()
        case .conflict: throw APIError(.conflict, detail: "The job is running: stop it before deleting it.")
        }
    }

    /// 200 with the job; repeating it (whatever happened since) changes nothing.
    @Sendable func submit(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        switch try await self.lifecycle.submit(jobId: try context.parameters.require("id"), owner: owner, logger: context.logger) {
        case .applied(let job, _):
            return try Response.json(JobRendering.render(job.spec, apiBase: PublicURL.apiBase(userId: owner, context: context)))
        case .notFound:
            throw APIError.notFound()
        }
    }

    /// 202: every run of the job stops; 409 when it is not running.
    @Sendable func stop(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let job = try await self.stored(request, context: context)
        guard job.state.isActive else { throw APIError(.conflict, detail: "The job is not running.") }
        _ = try await self.lifecycle.stop(jobId: job.id, owner: job.owner, logger: context.logger)
        return Response(status: .accepted)
    }

    // MARK: - Helpers

    /// The job checked and completed, and the runs it makes.
    private func validated(_ input: Job, jobId: String, owner: String, context: SimforgeRequestContext) async throws
        -> (JobValidator.Validated, [PlannedRun]) {
        var validated = try await self.validator.validate(input, jobId: jobId, owner: owner, logger: context.logger)
        let runs = try await self.planner.runs(of: &validated.job, jobId: jobId, owner: owner, logger: context.logger)
        return (validated, runs)
    }

    private func stored(_ request: Request, context: SimforgeRequestContext) async throws -> StoredJob {
        let owner = try context.requireUserId()
        guard let job = try await self.repository.job(id: try context.parameters.require("id"), owner: owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        return job
    }

    static var alreadySubmitted: APIError {
        APIError(.conflict, detail: "The job was submitted: what it runs can no longer be changed (its name, description, projectId and "
            + "isLowPriority can).")
    }
}

extension JobSummary: ResponseGenerator, ResponseEncodable {}
extension Run: ResponseGenerator, ResponseEncodable {}
extension JobStatus: ResponseGenerator, ResponseEncodable {}
