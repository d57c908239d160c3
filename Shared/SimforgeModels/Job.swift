import Foundation

/// A job as clients send it (`POST jobs/`) and read it back (API.md "Objects"). Reading
/// is tolerant: unknown fields are ignored and missing optional ones take defaults.
public struct Job: Codable, Sendable, Equatable {
    public struct AnalysisRef: Codable, Sendable, Equatable {
        public var code: String
        /// A `versionCode`.
        public var version: String?

        public init(code: String, version: String?) {
            self.code = code
            self.version = version
        }
    }

    public struct CoreSummary: Codable, Sendable, Equatable {
        public var memoryPerNode: Int
        public var storagePerNode: Int
        public var numberOfNodes: Int

        public init(memoryPerNode: Int, storagePerNode: Int, numberOfNodes: Int) {
            self.memoryPerNode = memoryPerNode
            self.storagePerNode = storagePerNode
            self.numberOfNodes = numberOfNodes
        }
    }

    public struct Hardware: Codable, Sendable, Equatable {
        public var coreType: String
        public var coresPerSlot: Int
        public var slots: Int
        /// Hours.
        public var walltime: Int?
        public var coreSummary: CoreSummary?

        public init(coreType: String, coresPerSlot: Int, slots: Int, walltime: Int?, coreSummary: CoreSummary? = nil) {
            self.coreType = coreType
            self.coresPerSlot = coresPerSlot
            self.slots = slots
            self.walltime = walltime
            self.coreSummary = coreSummary
        }

        private enum CodingKeys: String, CodingKey { case coreType, coresPerSlot, slots, walltime, coreSummary }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.coreType = try container.decode(String.self, forKey: .coreType)
            self.coresPerSlot = try container.decodeIfPresent(Int.self, forKey: .coresPerSlot) ?? 1
            self.slots = try container.decodeIfPresent(Int.self, forKey: .slots) ?? 1
            self.walltime = try container.decodeIfPresent(Int.self, forKey: .walltime)
            self.coreSummary = try container.decodeIfPresent(CoreSummary.self, forKey: .coreSummary)
        }
    }

    /// An input file reference; on output it carries the whole File as well.
    public struct InputFile: Codable, Sendable, Equatable {
        public var id: String
        public var decompress: Bool
        public var file: File?

        public init(id: String, decompress: Bool = true, file: File? = nil) {
            self.id = id
            self.decompress = decompress
            self.file = file
        }

        private enum CodingKeys: String, CodingKey { case id, decompress }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decode(String.self, forKey: .id)
            self.decompress = try container.decodeIfPresent(Bool.self, forKey: .decompress) ?? true
            // Present when read back from storage or from a response; clients send only the id.
            self.file = try? File(from: decoder)
        }

        /// The File's fields, flattened, plus `decompress` (the seed's response shape).
        public func encode(to encoder: any Encoder) throws {
            if let file {
                try file.encode(to: encoder)
            }
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.id, forKey: .id)
            try container.encode(self.decompress, forKey: .decompress)
        }
    }

    public struct JobAnalysis: Codable, Sendable, Equatable {
        public var analysis: AnalysisRef
        public var command: String
        public var useMpi: Bool
        public var envVars: [String: String]
        public var hardware: Hardware
        public var inputFiles: [InputFile]
        public var preProcessScript: String?
        public var preProcessScriptCommand: String
        public var postProcessScript: String?
        public var postProcessScriptCommand: String

        private enum CodingKeys: String, CodingKey {
            case analysis, command, useMpi, envVars, hardware, inputFiles, preProcessScript, preProcessScriptCommand,
                 postProcessScript, postProcessScriptCommand
        }

        public init(analysis: AnalysisRef, command: String, hardware: Hardware, inputFiles: [InputFile] = [], useMpi: Bool = false,
                    envVars: [String: String] = [:]) {
            self.analysis = analysis
            self.command = command
            self.useMpi = useMpi
            self.envVars = envVars
            self.hardware = hardware
            self.inputFiles = inputFiles
            self.preProcessScript = nil
            self.preProcessScriptCommand = ""
            self.postProcessScript = nil
            self.postProcessScriptCommand = ""
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.analysis = try container.decode(AnalysisRef.self, forKey: .analysis)
            self.command = try container.decode(String.self, forKey: .command)
            self.useMpi = try container.decodeIfPresent(Bool.self, forKey: .useMpi) ?? false
            self.envVars = try container.decodeIfPresent([String: String].self, forKey: .envVars) ?? [:]
            self.hardware = try container.decode(Hardware.self, forKey: .hardware)
            self.inputFiles = try container.decodeIfPresent([InputFile].self, forKey: .inputFiles) ?? []
            self.preProcessScript = try container.decodeIfPresent(String.self, forKey: .preProcessScript)
            self.preProcessScriptCommand = try container.decodeIfPresent(String.self, forKey: .preProcessScriptCommand) ?? ""
            self.postProcessScript = try container.decodeIfPresent(String.self, forKey: .postProcessScript)
            self.postProcessScriptCommand = try container.decodeIfPresent(String.self, forKey: .postProcessScriptCommand) ?? ""
        }
    }

    public var id: String?
    public var owner: String?
    public var name: String
    public var description: String
    public var isLowPriority: Bool
    public var projectId: String?
    public var jobanalyses: [JobAnalysis]

    private enum CodingKeys: String, CodingKey { case id, owner, name, description, isLowPriority, projectId, jobanalyses }

    public init(name: String, jobanalyses: [JobAnalysis], description: String = "", isLowPriority: Bool = false, projectId: String? = nil) {
        self.name = name
        self.description = description
        self.isLowPriority = isLowPriority
        self.projectId = projectId
        self.jobanalyses = jobanalyses
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decodeIfPresent(String.self, forKey: .id)
        self.owner = try container.decodeIfPresent(String.self, forKey: .owner)
        self.name = try container.decode(String.self, forKey: .name)
        self.description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        self.isLowPriority = try container.decodeIfPresent(Bool.self, forKey: .isLowPriority) ?? false
        self.projectId = try container.decodeIfPresent(String.self, forKey: .projectId)
        self.jobanalyses = try container.decode([JobAnalysis].self, forKey: .jobanalyses)
    }
}
