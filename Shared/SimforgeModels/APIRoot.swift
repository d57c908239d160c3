/// `GET /{userId}/api/v2/`: absolute links to the resources, as DRF's browsable API root.
public struct APIRoot: Codable, Sendable, Equatable {
    public var analyses: String
    public var coretypes: String
    public var files: String
    public var jobs: String

    public init(analyses: String, coretypes: String, files: String, jobs: String) {
        self.analyses = analyses
        self.coretypes = coretypes
        self.files = files
        self.jobs = jobs
    }
}
