/// An analysis of the catalog (API.md "Objects"): a solver with its versions.
public struct Analysis: Codable, Sendable, Equatable {
    /// An industry the analysis is used in.
    public struct Industry: Codable, Sendable, Equatable {
        public var name: String
        public var icon: String?

        public init(name: String, icon: String? = nil) {
            self.name = name
            self.icon = icon
        }
    }

    /// One installable version of an analysis.
    public struct Version: Codable, Sendable, Equatable {
        public var version: String
        public var versionCode: String
        public var allowedCoreTypes: [String]
        public var stdCommand: String?
        public var mpiCommand: String?
        public var smpCommand: String?
        public var eula: String?

        public init(
            version: String,
            versionCode: String,
            allowedCoreTypes: [String],
            stdCommand: String? = nil,
            mpiCommand: String? = nil,
            smpCommand: String? = nil,
            eula: String? = nil
        ) {
            self.version = version
            self.versionCode = versionCode
            self.allowedCoreTypes = allowedCoreTypes
            self.stdCommand = stdCommand
            self.mpiCommand = mpiCommand
            self.smpCommand = smpCommand
            self.eula = eula
        }
    }

    public var code: String
    public var name: String
    public var description: String
    public var vendorName: String
    public var industries: [Industry]
    /// Newest version first.
    public var versions: [Version]
    public var supportDesks: [String]
    public var hasRescaleLicense: Bool
    public var licenseSettings: [String]
    public var pricing: String?
    public var optimizerType: String?
    public var thumbnail: String?
    public var resources: [String]

    public init(
        code: String,
        name: String,
        description: String,
        vendorName: String,
        industries: [Industry],
        versions: [Version],
        supportDesks: [String] = [],
        hasRescaleLicense: Bool = false,
        licenseSettings: [String] = [],
        pricing: String? = nil,
        optimizerType: String? = nil,
        thumbnail: String? = nil,
        resources: [String] = []
    ) {
        self.code = code
        self.name = name
        self.description = description
        self.vendorName = vendorName
        self.industries = industries
        self.versions = versions
        self.supportDesks = supportDesks
        self.hasRescaleLicense = hasRescaleLicense
        self.licenseSettings = licenseSettings
        self.pricing = pricing
        self.optimizerType = optimizerType
        self.thumbnail = thumbnail
        self.resources = resources
    }
}
