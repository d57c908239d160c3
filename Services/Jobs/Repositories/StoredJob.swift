import Foundation
import SimforgeModels
import SimforgeServer

/// A jobs row.
struct StoredJob: Sendable {
    var id: String
    var owner: String
    /// The validated job as created (defaults filled, core summary computed, the files it
    /// refers to as they were).
    var spec: Job
    var analysisNames: [String]
    var state: JobState
    var statusReason: String?
    var lastStatusDate: Date?
    var dateInserted: Date
    var expectedRuns: Int = 1
}

/// A runs row.
struct StoredRun: Sendable {
    var jobId: String
    var id: String
    var displayOrder: Int
    var state: JobState
    var statusReason: String?
    var dateStarted: Date?
    var dateCompleted: Date?
    var exitCode: Int?
    var outputFileCount: Int
    var outputFileSize: Int64
    var variables: [RunVariable]

    /// The run as clients read it.
    var wire: Run {
        Run(
            id: self.id, displayOrder: self.displayOrder, dateStarted: self.dateStarted, dateCompleted: self.dateCompleted,
            outputFileCount: self.outputFileCount, outputFileSize: self.outputFileSize, variables: self.variables,
            exitCode: self.exitCode, status: self.state.statusName ?? "", statusReason: self.statusReason)
    }
}

/// A job's spec as stored (JSON text), and the last answer of `GET jobs/{id}/` rendered
/// from it: the answer changes only with the spec and with the address the caller used.
final class StoredSpec: Sendable {
    let owner: String
    let text: String
    let lastAnswer = LastAnswer()

    init(owner: String, text: String) {
        self.owner = owner
        self.text = text
    }
}

/// A row of `GET jobs/`: the Rescale docs' job summary, plus the date and reason of the
/// newest status (`jobStatus.date`, `jobStatus.reason`).
struct JobSummary: Codable, Sendable {
    /// A status as the docs' lists show it (`labelClass` `label-success` while it runs).
    struct Label: Codable, Sendable {
        var content: String
        var labelClass: String
        var useLabel: Bool

        init(_ content: String, highlighted: Bool) {
            self.content = content
            self.labelClass = highlighted ? "label-success" : ""
            self.useLabel = highlighted
        }
    }

    struct Status: Codable, Sendable {
        var content: String
        var labelClass: String
        var useLabel: Bool
        var date: Date?
        var reason: String?

        private enum CodingKeys: String, CodingKey { case content, labelClass, useLabel, date, reason }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.content, forKey: .content)
            try container.encode(self.labelClass, forKey: .labelClass)
            try container.encode(self.useLabel, forKey: .useLabel)
            try container.encode(self.date, forKey: .date)
            try container.encode(self.reason, forKey: .reason)
        }
    }

    var id: String
    var name: String
    var owner: String
    var dateInserted: Date
    var analysisNames: [String]
    var jobStatus: Status
    var clusterStatusDisplay: Label
    var sharedWith: [String] = []
    /// Bytes of the job's output files.
    var storage: Int64
    var isVisible = true

    init(job: StoredJob, storage: Int64, clusterStatus: String?) {
        self.id = job.id
        self.name = job.spec.name
        self.owner = job.owner
        self.dateInserted = job.dateInserted
        self.analysisNames = job.analysisNames
        // An unsubmitted job's status is empty, as in the docs.
        let content = job.state.statusName ?? ""
        let running = job.state == .executing
        self.jobStatus = Status(
            content: content, labelClass: running ? "label-success" : "", useLabel: running, date: job.lastStatusDate,
            reason: job.statusReason)
        self.clusterStatusDisplay = Label(clusterStatus ?? "", highlighted: clusterStatus == "Started")
        self.storage = storage
    }
}
