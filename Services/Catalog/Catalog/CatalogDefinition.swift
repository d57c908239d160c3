import Foundation
import SimforgeModels
import SimforgeServer
import Yams

/// The content of `deploy/catalog.yml`: what the catalog serves. Applied to the catalog
/// schema at every start; see the file's header for the rules.
struct CatalogDefinition: Decodable, Sendable {
    struct CoreTypeEntry: Decodable, Sendable {
        var code: String
        var name: String
        var description: String
        var displayOrder: Int
        var cores: [Int]
        var memory: Int
        var storage: Int
        /// A decimal text (`"0.06"`), served as a JSON number.
        var price: String
        var processorInfo: String
        var isDeprecated: Bool?
        var walltimeRequired: Bool?
        var isPrimary: Bool?
        var hasSsd: Bool?
        var storageIo: String?
        var io: String?
        /// A decimal text (`"1.00"`), served as text.
        var compute: String?
        /// A decimal text, served as text; `price` when absent.
        var lowPriorityPrice: String?
        var remoteVizAllowed: Bool?
    }

    struct VersionEntry: Decodable, Sendable {
        var version: String
        var versionCode: String
        var allowedCoreTypes: [String]
        var stdCommand: String?
        var mpiCommand: String?
        var smpCommand: String?
        var eula: String?
        /// Variables the job's command runs with; internal, never public JSON.
        var environment: [String: String]?
    }

    struct AnalysisEntry: Decodable, Sendable {
        var code: String
        var name: String
        var description: String
        var vendorName: String
        var industries: [Analysis.Industry]?
        /// Newest first.
        var versions: [VersionEntry]
        var supportDesks: [Analysis.SupportDesk]?
        var hasRescaleLicense: Bool?
        var hasShortTermLicense: Bool?
        var licenseSettings: [Analysis.LicenseSetting]?
        var pricing: String?
        var optimizerType: String?
        var thumbnail: String?
        var resources: [Analysis.Resource]?
    }

    var coreTypes: [CoreTypeEntry]
    var analyses: [AnalysisEntry]

    /// Reads and validates the file; every problem is reported at once.
    static func load(path: String) throws -> CatalogDefinition {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read catalog file \(path): \(error.localizedDescription)")
        }
        return try parse(text, source: path)
    }

    static func parse(_ text: String, source: String) throws -> CatalogDefinition {
        let definition: CatalogDefinition
        do {
            definition = try YAMLDecoder().decode(CatalogDefinition.self, from: text)
        } catch {
            throw ConfigurationError("catalog file \(source) is malformed: \(error)")
        }
        let problems = definition.problems()
        guard problems.isEmpty else {
            throw ConfigurationError("catalog file \(source) is invalid:\n- " + problems.joined(separator: "\n- "))
        }
        return definition
    }

    func problems() -> [String] {
        var problems: [String] = []
        let codePattern = /[A-Za-z0-9_.-]{1,64}/
        func checkUnique(_ codes: [String], _ what: String) {
            var seen = Set<String>()
            for code in codes where !seen.insert(code).inserted {
                problems.append("\(what) '\(code)' appears twice")
            }
        }
        checkUnique(self.coreTypes.map(\.code), "core type")
        checkUnique(self.analyses.map(\.code), "analysis")
        let coreTypeCodes = Set(self.coreTypes.map(\.code))
        for coreType in self.coreTypes {
            if coreType.code.wholeMatch(of: codePattern) == nil { problems.append("core type code '\(coreType.code)' is not [A-Za-z0-9_.-]") }
            if coreType.cores.isEmpty || coreType.cores.contains(where: { $0 < 1 }) {
                problems.append("core type '\(coreType.code)': cores must be a non-empty list of positive node sizes")
            }
            if coreType.memory < 1 || coreType.storage < 1 {
                problems.append("core type '\(coreType.code)': memory and storage must be positive")
            }
            for (field, value) in [("price", coreType.price), ("lowPriorityPrice", coreType.lowPriorityPrice), ("compute", coreType.compute)] {
                if let value, !Self.isDecimal(value) {
                    problems.append("core type '\(coreType.code)': \(field) '\(value)' is not a decimal number")
                }
            }
        }
        let primaries = self.coreTypes.filter { $0.isPrimary == true }.map(\.code)
        if primaries.count > 1 {
            problems.append("only one core type may be primary, not \(primaries.joined(separator: ", "))")
        }
        for analysis in self.analyses {
            if analysis.code.wholeMatch(of: codePattern) == nil { problems.append("analysis code '\(analysis.code)' is not [A-Za-z0-9_.-]") }
            if analysis.versions.isEmpty { problems.append("analysis '\(analysis.code)' has no version") }
            for desk in analysis.supportDesks ?? [] where desk.code.isEmpty || desk.displayName.isEmpty || !desk.email.contains("@") {
                problems.append("analysis '\(analysis.code)': support desk '\(desk.code)' needs a code, a display name and an email address")
            }
            for setting in analysis.licenseSettings ?? [] where setting.name.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]*/) == nil {
                problems.append("analysis '\(analysis.code)': license setting '\(setting.name)' is not an environment variable name")
            }
            for resource in analysis.resources ?? [] where !Self.isWebURL(resource.url) || resource.name.isEmpty {
                problems.append("analysis '\(analysis.code)': resource '\(resource.url)' needs an http(s) URL and a name")
            }
            checkUnique(analysis.versions.map(\.versionCode), "version of '\(analysis.code)'")
            for version in analysis.versions {
                if version.versionCode.wholeMatch(of: codePattern) == nil {
                    problems.append("analysis '\(analysis.code)': version code '\(version.versionCode)' is not [A-Za-z0-9_.-]")
                }
                if version.allowedCoreTypes.isEmpty {
                    problems.append("analysis '\(analysis.code)' version '\(version.versionCode)' allows no core type")
                }
                for coreType in version.allowedCoreTypes where !coreTypeCodes.contains(coreType) {
                    problems.append("analysis '\(analysis.code)' version '\(version.versionCode)' allows unknown core type '\(coreType)'")
                }
            }
        }
        return problems
    }

    /// `12`, `0.06`: what `price`, `lowPriorityPrice` and `compute` hold.
    static func isDecimal(_ text: String) -> Bool {
        text.wholeMatch(of: /[0-9]+(\.[0-9]+)?/) != nil
    }

    static func isWebURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host else { return false }
        return (scheme == "http" || scheme == "https") && !host.isEmpty
    }
}
