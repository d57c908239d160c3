/// An analysis of the catalog (API.md "Objects"): a solver with its versions. Every key of
/// the Rescale docs' and the seed's analysis is always written (`null`, `""`, `[]` or
/// `false` where there is no value): clients index them.
public struct Analysis: Codable, Sendable, Equatable {
    /// An industry the analysis is used in.
    public struct Industry: Codable, Sendable, Equatable {
        public var name: String
        public var icon: String?

        public init(name: String, icon: String? = nil) {
            self.name = name
            self.icon = icon
        }

        private enum CodingKeys: String, CodingKey { case name, icon }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.name, forKey: .name)
            try container.encode(self.icon, forKey: .icon)
        }
    }

    /// Who gives support for the analysis.
    public struct SupportDesk: Codable, Sendable, Equatable {
        public var code: String
        public var displayName: String
        public var email: String

        public init(code: String, displayName: String, email: String) {
            self.code = code
            self.displayName = displayName
            self.email = email
        }
    }

    /// A license setting a job of this analysis needs (e.g. a license server's address).
    public struct LicenseSetting: Codable, Sendable, Equatable {
        /// The environment variable the setting is given in, e.g. `LM_LICENSE_FILE`.
        public var name: String
        public var label: String
        public var helpText: String
        /// E.g. `Flex`.
        public var licenseType: String
        /// Whether the value is a license server's address.
        public var isServer: Bool

        public init(name: String, label: String, helpText: String, licenseType: String, isServer: Bool) {
            self.name = name
            self.label = label
            self.helpText = helpText
            self.licenseType = licenseType
            self.isServer = isServer
        }
    }

    /// A tutorial or manual about the analysis.
    public struct Resource: Codable, Sendable, Equatable {
        public var url: String
        public var name: String

        public init(url: String, name: String) {
            self.url = url
            self.name = name
        }
    }

    /// One installable version of an analysis. Every key is written, `null` when not set.
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

        private enum CodingKeys: String, CodingKey {
            case version, versionCode, allowedCoreTypes, stdCommand, mpiCommand, smpCommand, eula
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.version, forKey: .version)
            try container.encode(self.versionCode, forKey: .versionCode)
            try container.encode(self.allowedCoreTypes, forKey: .allowedCoreTypes)
            try container.encode(self.stdCommand, forKey: .stdCommand)
            try container.encode(self.mpiCommand, forKey: .mpiCommand)
            try container.encode(self.smpCommand, forKey: .smpCommand)
            try container.encode(self.eula, forKey: .eula)
        }
    }

    public var code: String
    public var name: String
    public var description: String
    public var vendorName: String
    public var industries: [Industry]
    /// Newest version first.
    public var versions: [Version]
    public var supportDesks: [SupportDesk]
    /// Whether the platform provides a license.
    public var hasRescaleLicense: Bool
    /// Whether a short-term license can be bought to run it.
    public var hasShortTermLicense: Bool
    public var licenseSettings: [LicenseSetting]
    /// The cost of the software itself; `""` when there is none.
    public var pricing: String
    public var optimizerType: String?
    /// A path or URL of the analysis's image; `""` when there is none.
    public var thumbnail: String
    public var resources: [Resource]

    public init(
        code: String,
        name: String,
        description: String,
        vendorName: String,
        industries: [Industry],
        versions: [Version],
        supportDesks: [SupportDesk] = [],
        hasRescaleLicense: Bool = false,
        hasShortTermLicense: Bool = false,
        licenseSettings: [LicenseSetting] = [],
        pricing: String = "",
        optimizerType: String? = nil,
        thumbnail: String = "",
        resources: [Resource] = []
    ) {
        self.code = code
        self.name = name
        self.description = description
        self.vendorName = vendorName
        self.industries = industries
        self.versions = versions
        self.supportDesks = supportDesks
        self.hasRescaleLicense = hasRescaleLicense
        self.hasShortTermLicense = hasShortTermLicense
        self.licenseSettings = licenseSettings
        self.pricing = pricing
        self.optimizerType = optimizerType
        self.thumbnail = thumbnail
        self.resources = resources
    }

    private enum CodingKeys: String, CodingKey {
        case code, name, description, vendorName, industries, versions, supportDesks, hasRescaleLicense, hasShortTermLicense,
             licenseSettings, pricing, optimizerType, thumbnail, resources
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.code, forKey: .code)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.description, forKey: .description)
        try container.encode(self.vendorName, forKey: .vendorName)
        try container.encode(self.industries, forKey: .industries)
        try container.encode(self.versions, forKey: .versions)
        try container.encode(self.supportDesks, forKey: .supportDesks)
        try container.encode(self.hasRescaleLicense, forKey: .hasRescaleLicense)
        try container.encode(self.hasShortTermLicense, forKey: .hasShortTermLicense)
        try container.encode(self.licenseSettings, forKey: .licenseSettings)
        try container.encode(self.pricing, forKey: .pricing)
        try container.encode(self.optimizerType, forKey: .optimizerType)
        try container.encode(self.thumbnail, forKey: .thumbnail)
        try container.encode(self.resources, forKey: .resources)
    }
}
