/// The lifecycle of DESIGN.md, shared by runs and jobs: created → pending → queued →
/// started → validated → executing → (stopping) → completed. A run is the unit that
/// executes; a job's state follows its runs (``Lifecycle``). Each state but `created` is a
/// status in the job's history.
enum JobState: String, Sendable, CaseIterable, Comparable {
    case created, pending, queued, started, validated, executing, stopping, completed

    /// The history's name for it (`Pending`, ..., `Completed`); `created` has none.
    var statusName: String? {
        self == .created ? nil : self.rawValue.prefix(1).uppercased() + self.rawValue.dropFirst()
    }

    /// Submitted and not finished: it may be stopped, not deleted.
    var isActive: Bool {
        self != .created && self != .completed
    }

    /// Handed to the compute backend and not finished: the backend has (or had) it.
    static let dispatched: Set<JobState> = [.queued, .started, .validated, .executing, .stopping]
    /// Its agent runs: it must be heard from.
    static let running: Set<JobState> = [.started, .validated, .executing, .stopping]
    /// Every state a submitted run or job can end from.
    static let endable: Set<JobState> = [.pending, .queued, .started, .validated, .executing, .stopping]

    /// A `job_status` filter value (`PENDING`, ...).
    init?(filter: String) {
        self.init(rawValue: filter.lowercased())
    }

    private var order: Int { Self.allCases.firstIndex(of: self)! }

    static func < (lhs: JobState, rhs: JobState) -> Bool {
        lhs.order < rhs.order
    }
}
