import Foundation
import Hummingbird
import SimforgeModels
import SimforgeServer

/// `jobs/{id}/statuses/` and `jobs/statuses/`: status history, newest first, paginated;
/// `after` (ISO date) keeps newer entries only; `wait` (seconds, at most 60) long-polls:
/// the call returns as soon as such an entry exists, or with an empty page when the time
/// runs out. Woken by PostgreSQL notifications, not by polling.
struct StatusController<Repository: StatusRepository> {
    let repository: Repository
    let broker: StatusBroker

    static var maxWait: Int { 60 }

    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get("/jobs/statuses", use: self.feed)
        group.get("/jobs/{jobId}/statuses", use: self.history)
    }

    @Sendable func history(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        try await self.statuses(request, context: context, owner: try context.requireUserId(), jobId: try context.parameters.require("jobId"))
    }

    @Sendable func feed(_ request: Request, context: SimforgeRequestContext) async throws -> Response {
        try await self.statuses(request, context: context, owner: try context.requireUserId(), jobId: nil)
    }

    private func statuses(_ request: Request, context: SimforgeRequestContext, owner: String, jobId: String?) async throws -> Response {
        let page = try PageRequest(request: request)
        let query = request.uri.queryParameters
        var errors: [String: FieldErrors] = [:]
        let after = query["after"].flatMap { text -> Date? in
            guard let date = ISODate.parse(String(text)) else {
                errors["after"] = .messages(["Datetime has wrong format. Use ISO 8601, e.g. 2014-11-12T22:20:09.596996Z."])
                return nil
            }
            return date
        }
        let wait = query["wait"].flatMap { text -> Int? in
            guard let seconds = Int(String(text)), (0...Self.maxWait).contains(seconds) else {
                errors["wait"] = .messages(["Ensure this value is an integer from 0 to \(Self.maxWait)."])
                return nil
            }
            return seconds
        } ?? 0
        guard errors.isEmpty else { throw APIError.validation(errors) }

        let deadline = ContinuousClock.now + .seconds(wait)
        var knownJob = jobId == nil
        while true {
            // A long-poll reads the owner's version before querying, so no announcement falls
            // between its query and its wait; a plain read does not wait (nor visit the broker).
            let seen = wait > 0 ? await self.broker.version(of: owner) : nil
            let remaining = deadline - ContinuousClock.now
            if let jobId, let history = try await self.repository.history(jobId: jobId, logger: context.logger) {
                // Most reads: a short history kept in memory, paged here; a poll repeating
                // the last request gets the same bytes.
                guard history.owner == owner else { throw APIError.notFound() }
                let newer = history.statuses(after: after)
                if newer.isEmpty, remaining > .zero, let seen {
                    await self.broker.wait(owner: owner, seen: seen, timeout: remaining)
                    continue
                }
                let body = try history.lastAnswer.body(for: context.publicOrigin + request.uri.description) {
                    let results = Array(newer.dropFirst(page.offset).prefix(page.limit))
                    return ByteBuffer(bytes: try page.page(count: newer.count, results: results, for: request, context: context).jsonBytes)
                }
                return Response(status: .ok, headers: [.contentType: Response.jsonContentType], body: .init(byteBuffer: body))
            }
            let (count, statuses) = try await self.repository.statuses(owner: owner, jobId: jobId, after: after, page: page, logger: context.logger)
            if count == 0, !knownJob, let jobId {
                // Nothing to show: is it an empty history, or not the caller's job at all?
                guard try await self.repository.jobExists(jobId: jobId, owner: owner, logger: context.logger) else {
                    throw APIError.notFound()
                }
                knownJob = true
            }
            guard statuses.isEmpty, count == 0, remaining > .zero, let seen else {
                return Response.json(writing: try page.page(count: count, results: statuses, for: request, context: context))
            }
            await self.broker.wait(owner: owner, seen: seen, timeout: remaining)
        }
    }
}
