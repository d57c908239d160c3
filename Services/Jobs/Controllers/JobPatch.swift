import Foundation
import SimforgeModels
import SimforgeServer

/// A `PATCH jobs/{id}/` body laid over the job: the fields sent replace the job's, the
/// others stay. Read-only fields (`id`, `owner`, `expectedRuns`, ...) are ignored.
struct JobPatch {
    /// The fields a job's user may change at any time.
    static let details: Set<String> = ["name", "description", "projectId", "isLowPriority"]
    /// The fields that say what the job runs: only before it is submitted.
    static let execution: Set<String> = [
        "jobanalyses", "jobvariables", "paramFile", "caseFile", "monteCarloIterations", "includeNominalRun", "isTemplateDryRun",
        "resourceFilters", "archiveFilters", "remoteVizConfig", "optimizer", "randomSeed",
    ]

    /// The job with the patch applied.
    let job: Job
    /// Whether it changes what the job runs.
    let changesExecution: Bool

    /// The fields of a `PATCH` body that a patch applies (others are ignored).
    static func fields(of body: Data) throws -> [String: JSONValue] {
        // Only the fields it merges matter: the merged job is decoded (and checked) below.
        guard case .object(let sent) = try RequestJSON.decodeAsSent(JSONValue.self, from: body) else {
            throw APIError.badRequest("JSON parse error - the body must be a JSON object.")
        }
        let applied = sent.filter { Self.details.contains($0.key) || Self.execution.contains($0.key) }
        return Dictionary(applied.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }

    /// Whether `fields` change what the job runs (refused once it is submitted).
    static func changesExecution(_ fields: [String: JSONValue]) -> Bool {
        fields.keys.contains { Self.execution.contains($0) }
    }

    init(_ fields: [String: JSONValue], onto current: Job) throws {
        var merged = try JSONValue(parsing: String(decoding: try JSONEncoder.simforge().encode(current), as: UTF8.self))
        for (key, value) in fields {
            merged[key] = value
        }
        self.job = try RequestJSON.decode(Job.self, from: Data(merged.jsonBytes))
        self.changesExecution = Self.changesExecution(fields)
    }
}
