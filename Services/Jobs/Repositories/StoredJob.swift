import Foundation
import SimforgeModels
import SimforgeServer

/// A jobs row.
struct StoredJob: Sendable {
    var id: String
    var owner: String
    /// The validated job as created (defaults filled, core summary computed, input files'
    /// metadata as they were).
    var spec: Job
    var analysisNames: [String]
    var state: JobState
    var statusReason: String?
    var lastStatusDate: Date?
    var dateInserted: Date
    /// The compute backend's reference once dispatched (a process id, a Slurm job id).
    var backendReference: String? = nil
}

/// A job's spec as stored (JSON text, not decoded into a ``Job``), and the last answer of
/// `GET jobs/{id}/` rendered from it: the answer changes only with the spec and with the
/// address the caller used.
final class StoredSpec: Sendable {
    let owner: String
    let text: String
    let lastAnswer = LastAnswer()

    init(owner: String, text: String) {
        self.owner = owner
        self.text = text
    }
}

/// A row of `GET jobs/`.
struct JobSummary: Codable, Sendable {
    struct Status: Codable, Sendable {
        var content: String
        var date: Date?
        var reason: String?
    }

    var id: String
    var name: String
    var owner: String
    var dateInserted: Date
    var analysisNames: [String]
    var jobStatus: Status
}

/// A run of a job (API.md "Run"); a basic job has run "1".
struct Run: Codable, Sendable {
    var id: String
    var type: Int = 3
    var displayOrder: Int
    var dateStarted: Date?
    var dateCompleted: Date?
    var isOptimal: Bool = false
    var outputFileCount: Int
    var outputFileSize: Int64
    var parent: String?
    var variables: [String] = []
    var exitCode: Int?

    private enum CodingKeys: String, CodingKey {
        case id, type, displayOrder, dateStarted, dateCompleted, isOptimal, outputFileCount, outputFileSize, parent, variables, exitCode
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.type, forKey: .type)
        try container.encode(self.displayOrder, forKey: .displayOrder)
        try container.encode(self.dateStarted, forKey: .dateStarted)
        try container.encode(self.dateCompleted, forKey: .dateCompleted)
        try container.encode(self.isOptimal, forKey: .isOptimal)
        try container.encode(self.outputFileCount, forKey: .outputFileCount)
        try container.encode(self.outputFileSize, forKey: .outputFileSize)
        try container.encode(self.parent, forKey: .parent)
        try container.encode(self.variables, forKey: .variables)
        try container.encode(self.exitCode, forKey: .exitCode)
    }
}
