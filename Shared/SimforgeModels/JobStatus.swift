import Foundation

/// One entry of a job's status history (API.md "Objects"). In the cross-job feed
/// (`jobs/statuses/`) each entry also carries its `jobId`.
public struct JobStatus: Codable, Sendable, Equatable {
    /// The status values, in lifecycle order.
    public enum Value {
        public static let all = ["Pending", "Queued", "Started", "Validated", "Executing", "Stopping", "Completed"]
    }

    public var status: String
    public var statusDate: Date
    public var statusReason: String?
    public var jobId: String?

    public init(status: String, statusDate: Date, statusReason: String?, jobId: String? = nil) {
        self.status = status
        self.statusDate = statusDate
        self.statusReason = statusReason
        self.jobId = jobId
    }

    private enum CodingKeys: String, CodingKey { case status, statusDate, statusReason, jobId }

    /// `statusReason` is always there (null when none); `jobId` only in the cross-job feed.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.status, forKey: .status)
        try container.encode(self.statusDate, forKey: .statusDate)
        try container.encode(self.statusReason, forKey: .statusReason)
        try container.encodeIfPresent(self.jobId, forKey: .jobId)
    }
}

/// What the jobs service delivers to the status service (from its outbox), one per state
/// change, identified by `eventId` so a redelivery is stored once.
public struct JobStatusEvent: Codable, Sendable, Equatable {
    public var eventId: String
    public var jobId: String
    public var owner: String
    public var status: String
    public var statusDate: Date
    public var statusReason: String?

    public init(eventId: String, jobId: String, owner: String, status: String, statusDate: Date, statusReason: String?) {
        self.eventId = eventId
        self.jobId = jobId
        self.owner = owner
        self.status = status
        self.statusDate = statusDate
        self.statusReason = statusReason
    }
}

/// A job the status service should know of (created) or forget (deleted).
public struct JobRegistration: Codable, Sendable, Equatable {
    public var jobId: String
    public var owner: String

    public init(jobId: String, owner: String) {
        self.jobId = jobId
        self.owner = owner
    }
}
