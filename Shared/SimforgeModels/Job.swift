import Foundation

/// A job as clients send it (`POST jobs/`) and read it back (API.md "Objects"; the seed's
/// and the Rescale docs' samples). Reading is tolerant as Rescale's is: unknown keys are
/// ignored, a missing or null optional field takes its default, and a job read back
/// (`GET jobs/{id}/`) can be posted again as a new job. Writing always writes every key,
/// with `null`, `[]`, `""` or `false` where there is no value, because clients index them.
public struct Job: Codable, Sendable, Equatable {
    public var id: String?
    public var owner: String?
    public var name: String
    public var description: String
    public var isLowPriority: Bool
    public var projectId: String?
    public var jobanalyses: [JobAnalysis]
    /// A DOE's variables; empty for a basic job.
    public var jobvariables: [JobVariable]
    /// A DOE's runs as CSV rows (header: the variables' names).
    public var paramFile: FileReference?
    public var caseFile: FileReference?
    /// Runs of a DOE whose variables are random.
    public var monteCarloIterations: Int?
    public var includeNominalRun: Bool
    public var isTemplateDryRun: Bool
    public var resourceFilters: [ResourceFilter]
    public var archiveFilters: [JSONValue]
    public var remoteVizConfig: JSONValue?
    public var optimizer: JSONValue?
    /// How many runs the job has (set at create).
    public var expectedRuns: Int?
    /// The seed of a DOE's random generators: the same seed gives the same runs.
    public var randomSeed: UInt64?

    public init(name: String, jobanalyses: [JobAnalysis], description: String = "", isLowPriority: Bool = false, projectId: String? = nil) {
        self.name = name
        self.description = description
        self.isLowPriority = isLowPriority
        self.projectId = projectId
        self.jobanalyses = jobanalyses
        self.jobvariables = []
        self.includeNominalRun = false
        self.isTemplateDryRun = false
        self.resourceFilters = []
        self.archiveFilters = []
    }

    private enum CodingKeys: String, CodingKey {
        case id, owner, name, description, isLowPriority, projectId, jobanalyses, jobvariables, paramFile, caseFile,
             monteCarloIterations, includeNominalRun, isTemplateDryRun, resourceFilters, archiveFilters, remoteVizConfig, optimizer,
             expectedRuns, randomSeed
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decodeIfPresent(String.self, forKey: .id)
        self.owner = try container.decodeIfPresent(String.self, forKey: .owner)
        self.name = try container.decode(String.self, forKey: .name)
        self.description = try container.value(String.self, .description, or: "")
        self.isLowPriority = try container.value(Bool.self, .isLowPriority, or: false)
        self.projectId = try container.decodeIfPresent(String.self, forKey: .projectId)
        self.jobanalyses = try container.decode([JobAnalysis].self, forKey: .jobanalyses)
        self.jobvariables = try container.value([JobVariable].self, .jobvariables, or: [])
        self.paramFile = try container.decodeIfPresent(FileReference.self, forKey: .paramFile)
        self.caseFile = try container.decodeIfPresent(FileReference.self, forKey: .caseFile)
        self.monteCarloIterations = try container.lenientInt(.monteCarloIterations)
        self.includeNominalRun = try container.value(Bool.self, .includeNominalRun, or: false)
        self.isTemplateDryRun = try container.value(Bool.self, .isTemplateDryRun, or: false)
        self.resourceFilters = try container.value([ResourceFilter].self, .resourceFilters, or: [])
        self.archiveFilters = try container.value([JSONValue].self, .archiveFilters, or: [])
        self.remoteVizConfig = try container.decodeIfPresent(JSONValue.self, forKey: .remoteVizConfig)
        self.optimizer = try container.decodeIfPresent(JSONValue.self, forKey: .optimizer)
        self.expectedRuns = try container.lenientInt(.expectedRuns)
        self.randomSeed = try container.decodeIfPresent(UInt64.self, forKey: .randomSeed)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.owner, forKey: .owner)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.description, forKey: .description)
        try container.encode(self.isLowPriority, forKey: .isLowPriority)
        try container.encode(self.projectId, forKey: .projectId)
        try container.encode(self.jobanalyses, forKey: .jobanalyses)
        try container.encode(self.jobvariables, forKey: .jobvariables)
        try container.encode(self.paramFile, forKey: .paramFile)
        try container.encode(self.caseFile, forKey: .caseFile)
        try container.encode(self.monteCarloIterations, forKey: .monteCarloIterations)
        try container.encode(self.includeNominalRun, forKey: .includeNominalRun)
        try container.encode(self.isTemplateDryRun, forKey: .isTemplateDryRun)
        try container.encode(self.resourceFilters, forKey: .resourceFilters)
        try container.encode(self.archiveFilters, forKey: .archiveFilters)
        try container.encode(self.remoteVizConfig, forKey: .remoteVizConfig)
        try container.encode(self.optimizer, forKey: .optimizer)
        try container.encode(self.expectedRuns, forKey: .expectedRuns)
        try container.encode(self.randomSeed, forKey: .randomSeed)
    }
}

extension Job {
    /// An output filter (Rescale's `resourceFilters`). Simforge keeps every file a run
    /// creates or changes; it accepts only the filters that ask for that.
    public struct ResourceFilter: Codable, Sendable, Equatable {
        public var caseSensitive: Bool
        public var include: Bool
        public var filterType: String
        public var selector: String

        public init(caseSensitive: Bool, include: Bool, filterType: String, selector: String) {
            self.caseSensitive = caseSensitive
            self.include = include
            self.filterType = filterType
            self.selector = selector
        }

        /// Rescale's defaults (the seed's create response): keep everything.
        public static let defaults = ["Analysis generated files", "Completed templates", "Input files"].map {
            ResourceFilter(caseSensitive: false, include: true, filterType: $0, selector: $0)
        }
    }
}
