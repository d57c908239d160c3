/// The job lifecycle of DESIGN.md: created → pending → queued → started → validated →
/// executing → (stopping) → completed. Each state but `created` is a status in the history.
enum JobState: String, Sendable, CaseIterable {
    case created, pending, queued, started, validated, executing, stopping, completed

    /// The history's name for it (`Pending`, ..., `Completed`); `created` has none.
    var statusName: String? {
        self == .created ? nil : self.rawValue.prefix(1).uppercased() + self.rawValue.dropFirst()
    }

    /// Submitted and not finished: it may be stopped, not deleted.
    var isActive: Bool {
        self != .created && self != .completed
    }

    /// A `job_status` filter value (`PENDING`, ...).
    init?(filter: String) {
        self.init(rawValue: filter.lowercased())
    }
}
