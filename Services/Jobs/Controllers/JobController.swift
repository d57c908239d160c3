import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SimforgeModels
import SimforgeServer

/// The public job routes: create, list, read, change, delete, submit, stop, runs.
struct JobController<Repository: JobRepository> {
    let repository: Repository
    let validator: JobValidator
    let relay: OutboxRelay
    /// Where submitted jobs run; `nil` until one is configured (jobs then wait `Pending`).
    let backend: (any ComputeBackend)?
    /// Wakes the dispatcher on submit.
    let doorbell: Doorbell?
    /// Files of running jobs, for `tail/`; `nil` without a compute backend.
    let tail: RunTail?

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.post("/jobs", use: self.create)
        group.get("/jobs", use: self.list)
        group.get("/jobs/{id}", use: self.get)
        group.patch("/jobs/{id}", use: self.patch)
        group.delete("/jobs/{id}", use: self.delete)
        group.post("/jobs/{id}/submit", use: self.submit)
        group.post("/jobs/{id}/stop", use: self.stop)
        group.get("/jobs/{id}/runs", use: self.runs)
        group.get("/jobs/{id}/runs/{runId}", use: self.run)
        group.get("/jobs/{id}/runs/{runId}/tail/**", use: self.tailLines)
    }

    @Sendable func create(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        let input = try await RequestJSON.decode(Job.self, from: request, context: context)
        let id = ShortID.make()
        let validated = try await self.validator.validate(input, jobId: id, owner: owner, logger: context.logger)
        let job = StoredJob(
            id: id, owner: owner, spec: validated.job, analysisNames: validated.analysisNames, state: .created,
            statusReason: nil, lastStatusDate: nil, dateInserted: Date())
        try await self.repository.create(job, logger: context.logger)
        context.logger.info("job created", metadata: ["jobs.id": "\(id)"])
        // Registered with status before the answer, so its statuses/ is an empty page, not 404.
        await self.relay.deliverPending(within: .seconds(1))
        return try Response.json(Self.render(job, for: request), status: .created)
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
                errors["job_status"] = .messages(["Unknown status '\(value)'."])
                return nil
            }
            return state
        }
        guard errors.isEmpty else { throw APIError.validation(errors) }
        let (count, jobs) = try await self.repository.jobs(
            owner: owner, completed: completed, state: state, search: query["search"].map(String.init), page: page, logger: context.logger)
        return try page.page(count: count, results: jobs.map(Self.summary), for: request)
    }

    /// The stored spec passed through as JSON, not decoded into a ``Job``: the same bytes
    /// as ``render(_:for:)`` gives, for a fraction of the work.
    @Sendable func get(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        let id = try context.parameters.require("id")
        guard let spec = try await self.repository.storedSpec(id: id, owner: owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        let apiBase = PublicURL.apiBase(userId: owner, for: request)
        let body = try spec.lastAnswer.body(for: apiBase) {
            ByteBuffer(bytes: Self.render(specJSON: try JSONValue(parsing: spec.text), id: id, owner: owner, apiBase: apiBase).jsonBytes)
        }
        return Response(status: .ok, headers: [.contentType: Response.jsonContentType], body: .init(byteBuffer: body))
    }

    @Sendable func patch(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let current = try await self.stored(request, context: context)
        guard current.state == .created else { throw Self.alreadySubmitted }
        let input = try await RequestJSON.decode(Job.self, from: request, context: context)
        let validated = try await self.validator.validate(input, jobId: current.id, owner: current.owner, logger: context.logger)
        var changed = current
        changed.spec = validated.job
        changed.analysisNames = validated.analysisNames
        switch try await self.repository.update(changed, logger: context.logger) {
        case .done(let job): return try Response.json(Self.render(job, for: request))
        case .notFound: throw APIError.notFound()
        case .conflict: throw Self.alreadySubmitted
        }
    }

    @Sendable func delete(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        switch try await self.repository.delete(id: try context.parameters.require("id"), owner: owner, logger: context.logger) {
        case .done:
            await self.relay.deliverPending(within: .seconds(1))
            return Response(status: .noContent)
        case .notFound: throw APIError.notFound()
        case .conflict: throw APIError(.conflict, detail: "The job is running: stop it before deleting it.")
        }
    }

    @Sendable func submit(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        switch try await self.repository.transition(
            id: try context.parameters.require("id"), owner: owner, from: [.created], to: .pending, reason: nil, logger: context.logger
        ) {
        case .moved(let job):
            await self.doorbell?.ring()
            // `Pending` should be in the history when we answer; if status is down, the
            // outbox delivers it later.
            await self.relay.deliverPending(within: .seconds(1))
            return try Response.json(Self.render(job, for: request))
        case .unchanged(let job):
            return try Response.json(Self.render(job, for: request))
        case .notFound:
            throw APIError.notFound()
        }
    }

    @Sendable func stop(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let owner = try context.requireUserId()
        let id = try context.parameters.require("id")
        let reason = "Stopped by user"
        // Not handed to a compute backend yet: nothing runs, so it ends here.
        switch try await self.repository.transition(id: id, owner: owner, from: [.pending], to: .stopping, reason: reason, logger: context.logger) {
        case .moved:
            _ = try await self.repository.transition(id: id, owner: owner, from: [.stopping], to: .completed, reason: reason, logger: context.logger)
        case .unchanged(let job) where [.queued, .started, .validated, .executing].contains(job.state):
            // With the backend: it stops the job, whose end is then reported as usual.
            _ = try await self.repository.transition(
                id: id, owner: owner, from: [.queued, .started, .validated, .executing], to: .stopping, reason: reason, logger: context.logger)
            if let backend = self.backend, let reference = job.backendReference {
                do {
                    if try await backend.cancel(jobId: id, reference: reference, logger: context.logger) == .ended {
                        _ = try await self.repository.transition(
                            id: id, owner: owner, from: [.stopping], to: .completed, reason: reason, logger: context.logger)
                    }
                } catch {
                    context.logger.warning("cancel failed; reconciliation will settle the job", metadata: ["jobs.id": "\(id)", "error": "\(error)"])
                }
            }
        case .unchanged(let job):
            guard job.state == .stopping else { throw APIError(.conflict, detail: "The job is not running.") }
        case .notFound:
            throw APIError.notFound()
        }
        await self.relay.deliverPending(within: .seconds(1))
        return Response(status: .accepted)
    }

    @Sendable func runs(_ request: Request, context: SimforgeRequestContext) async throws -> Page<Run> {
        let page = try PageRequest(request: request)
        let runs = try await self.allRuns(request, context: context)
        return try page.page(count: runs.count, results: Array(runs.dropFirst(page.offset).prefix(page.limit)), for: request)
    }

    @Sendable func run(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        let runId = try context.parameters.require("runId")
        guard let run = try await self.allRuns(request, context: context).first(where: { $0.id == runId }) else { throw APIError.notFound() }
        return try Response.json(run)
    }

    /// `runs/{runId}/tail/{path}?lines=N`: `{"lines": [...]}` of a file in the run's
    /// working directory, while it runs (afterwards its files are its outputs).
    @Sendable func tailLines(_ request: Request, context: SimforgeRequestContext) async throws -> [String: [String]] {
        let job = try await self.stored(request, context: context)
        guard try context.parameters.require("runId") == "1" else { throw APIError.notFound() }
        let count = try TextTail.count(request.uri.queryParameters["lines"])
        guard let tail = self.tail, [.executing, .stopping].contains(job.state) else {
            throw APIError(.conflict, detail: "The run is not running: its files are in its output files.")
        }
        return ["lines": try await tail.lines(jobId: job.id, path: context.parameters.getCatchAll().joined(separator: "/"), last: count)]
    }

    // MARK: - Helpers

    private func allRuns(_ request: Request, context: SimforgeRequestContext) async throws -> [Run] {
        let owner = try context.requireUserId()
        guard let runs = try await self.repository.runs(jobId: try context.parameters.require("id"), owner: owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        return runs
    }

    private func stored(_ request: Request, context: SimforgeRequestContext) async throws -> StoredJob {
        let owner = try context.requireUserId()
        guard let job = try await self.repository.job(id: try context.parameters.require("id"), owner: owner, logger: context.logger) else {
            throw APIError.notFound()
        }
        return job
    }

    static var alreadySubmitted: APIError { APIError(.conflict, detail: "The job was submitted: it can no longer be changed.") }

    /// The job as clients read it; input files' download links point at the caller's host.
    static func render(_ job: StoredJob, for request: Request) -> Job {
        var spec = job.spec
        spec.id = job.id
        spec.owner = job.owner
        let apiBase = PublicURL.apiBase(userId: job.owner, for: request)
        for analysis in spec.jobanalyses.indices {
            for file in spec.jobanalyses[analysis].inputFiles.indices {
                let id = spec.jobanalyses[analysis].inputFiles[file].id
                spec.jobanalyses[analysis].inputFiles[file].file?.downloadUrl = Self.downloadURL(apiBase: apiBase, fileId: id)
            }
        }
        return spec
    }

    /// ``render(_:for:)`` on a stored spec as JSON: an input that carries its File (it has a
    /// `downloadUrl`) gets the caller's link. The spec is stored as `JSONEncoder.simforge()`
    /// wrote it from a ``Job``, every field present, so this gives what decoding and encoding
    /// it gave; a field added to ``Job`` later needs its default written into old rows by a
    /// migration, or this route would leave it out.
    static func render(specJSON spec: JSONValue, id: String, owner: String, apiBase: String) -> JSONValue {
        var spec = spec
        spec["id"] = .string(id)
        spec["owner"] = .string(owner)
        spec["jobanalyses"] = spec["jobanalyses"]?.mappingElements { analysis in
            var analysis = analysis
            analysis["inputFiles"] = analysis["inputFiles"]?.mappingElements { input in
                guard input["downloadUrl"] != nil, let fileId = input["id"]?.stringValue else { return input }
                var input = input
                input["downloadUrl"] = .string(Self.downloadURL(apiBase: apiBase, fileId: fileId))
                return input
            }
            return analysis
        }
        return spec
    }

    static func downloadURL(apiBase: String, fileId: String) -> String {
        apiBase + "files/\(fileId)/contents/"
    }

    static func summary(_ job: StoredJob) -> JobSummary {
        JobSummary(
            id: job.id, name: job.spec.name, owner: job.owner, dateInserted: job.dateInserted, analysisNames: job.analysisNames,
            jobStatus: .init(content: job.state.statusName ?? "Not submitted", date: job.lastStatusDate, reason: job.statusReason))
    }

}

extension JobSummary: ResponseGenerator, ResponseEncodable {}
extension Run: ResponseGenerator, ResponseEncodable {}
