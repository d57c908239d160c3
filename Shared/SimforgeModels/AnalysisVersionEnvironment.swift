/// Internal view of one analysis version: what the jobs service validates against and what
/// the job agent needs to run a command. Served on `/internal/...` only, never public JSON.
public struct AnalysisVersionEnvironment: Codable, Sendable, Equatable {
    public var analysisCode: String
    public var analysisName: String
    public var version: String
    public var versionCode: String
    public var allowedCoreTypes: [String]
    /// `false` once the version was removed from the catalog file: existing jobs keep a
    /// readable record, new jobs must be refused.
    public var isActive: Bool
    /// Environment variables the command runs with (for example `WM_PROJECT_DIR` for OpenFOAM).
    public var environment: [String: String]

    public init(
        analysisCode: String,
        analysisName: String,
        version: String,
        versionCode: String,
        allowedCoreTypes: [String],
        isActive: Bool,
        environment: [String: String]
    ) {
        self.analysisCode = analysisCode
        self.analysisName = analysisName
        self.version = version
        self.versionCode = versionCode
        self.allowedCoreTypes = allowedCoreTypes
        self.isActive = isActive
        self.environment = environment
    }
}
