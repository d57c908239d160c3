import Foundation

extension Job {
    /// One analysis of a job: a solver version, its command and environment, its hardware,
    /// its files, and the pre- and post-processing around its command.
    public struct JobAnalysis: Codable, Sendable, Equatable {
        public var analysis: AnalysisRef
        public var command: String
        public var useMpi: Bool
        public var envVars: [String: String]
        public var hardware: Hardware
        public var inputFiles: [InputFile]
        public var useRescaleLicense: Bool
        /// Files written into each run's working directory with that run's variables.
        public var templateTasks: [TemplateTask]
        public var preProcessScript: FileReference?
        public var preProcessScriptCommand: String
        public var postProcessScript: FileReference?
        public var postProcessScriptCommand: String
        public var flags: JSONValue

        public init(analysis: AnalysisRef, command: String, hardware: Hardware, inputFiles: [InputFile] = [], useMpi: Bool = false,
                    envVars: [String: String] = [:]) {
            self.analysis = analysis
            self.command = command
            self.useMpi = useMpi
            self.envVars = envVars
            self.hardware = hardware
            self.inputFiles = inputFiles
            self.useRescaleLicense = false
            self.templateTasks = []
            self.preProcessScript = nil
            self.preProcessScriptCommand = ""
            self.postProcessScript = nil
            self.postProcessScriptCommand = ""
            self.flags = .object([])
        }

        private enum CodingKeys: String, CodingKey {
            case analysis, command, useMpi, envVars, hardware, inputFiles, useRescaleLicense, templateTasks, preProcessScript,
                 preProcessScriptCommand, postProcessScript, postProcessScriptCommand, flags
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.analysis = try container.decode(AnalysisRef.self, forKey: .analysis)
            self.command = try container.decode(String.self, forKey: .command)
            self.useMpi = try container.value(Bool.self, .useMpi, or: false)
            self.envVars = try container.value([String: String].self, .envVars, or: [:])
            self.hardware = try container.decode(Hardware.self, forKey: .hardware)
            self.inputFiles = try container.value([InputFile].self, .inputFiles, or: [])
            self.useRescaleLicense = try container.value(Bool.self, .useRescaleLicense, or: false)
            self.templateTasks = try container.value([TemplateTask].self, .templateTasks, or: [])
            self.preProcessScript = try container.decodeIfPresent(FileReference.self, forKey: .preProcessScript)
            self.preProcessScriptCommand = try container.value(String.self, .preProcessScriptCommand, or: "")
            self.postProcessScript = try container.decodeIfPresent(FileReference.self, forKey: .postProcessScript)
            self.postProcessScriptCommand = try container.value(String.self, .postProcessScriptCommand, or: "")
            self.flags = try container.value(JSONValue.self, .flags, or: .object([]))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.analysis, forKey: .analysis)
            try container.encode(self.command, forKey: .command)
            try container.encode(self.useMpi, forKey: .useMpi)
            try container.encode(self.envVars, forKey: .envVars)
            try container.encode(self.hardware, forKey: .hardware)
            try container.encode(self.inputFiles, forKey: .inputFiles)
            try container.encode(self.useRescaleLicense, forKey: .useRescaleLicense)
            try container.encode(self.templateTasks, forKey: .templateTasks)
            try container.encode(self.preProcessScript, forKey: .preProcessScript)
            try container.encode(self.preProcessScriptCommand, forKey: .preProcessScriptCommand)
            try container.encode(self.postProcessScript, forKey: .postProcessScript)
            try container.encode(self.postProcessScriptCommand, forKey: .postProcessScriptCommand)
            try container.encode(self.flags, forKey: .flags)
        }
    }

    /// The analysis version a job analysis runs: `code` and `version` (a `versionCode`,
    /// optional: the newest active version) as sent; `name` and `versionName` filled in.
    public struct AnalysisRef: Codable, Sendable, Equatable {
        public var code: String
        public var version: String?
        public var name: String?
        public var versionName: String?

        public init(code: String, version: String?, name: String? = nil, versionName: String? = nil) {
            self.code = code
            self.version = version
            self.name = name
            self.versionName = versionName
        }

        private enum CodingKeys: String, CodingKey { case code, version, name, versionName }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.code = try container.decode(String.self, forKey: .code)
            self.version = try container.decodeIfPresent(String.self, forKey: .version)
            self.name = try container.decodeIfPresent(String.self, forKey: .name)
            self.versionName = try container.decodeIfPresent(String.self, forKey: .versionName)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.code, forKey: .code)
            try container.encode(self.version, forKey: .version)
            try container.encode(self.name, forKey: .name)
            try container.encode(self.versionName, forKey: .versionName)
        }
    }

    /// Memory and storage of a run's nodes and how many nodes it spans, from its core type.
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

    /// Where a job analysis runs: `coreType` (a code; clients also send `{"code": ...}`),
    /// `coresPerSlot` cores per run, `slots` runs at once, `walltime` hours.
    public struct Hardware: Codable, Sendable, Equatable {
        public var coreType: String
        public var coresPerSlot: Int
        public var slots: Int
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
        private enum CoreTypeKeys: String, CodingKey { case code }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let object = try? container.nestedContainer(keyedBy: CoreTypeKeys.self, forKey: .coreType) {
                self.coreType = try object.decode(String.self, forKey: .code)
            } else {
                self.coreType = try container.decode(String.self, forKey: .coreType)
            }
            self.coresPerSlot = try container.lenientInt(.coresPerSlot) ?? 1
            self.slots = try container.lenientInt(.slots) ?? 1
            self.walltime = try container.lenientInt(.walltime)
            self.coreSummary = try? container.decodeIfPresent(CoreSummary.self, forKey: .coreSummary)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.coreType, forKey: .coreType)
            try container.encode(self.coresPerSlot, forKey: .coresPerSlot)
            try container.encode(self.slots, forKey: .slots)
            try container.encode(self.walltime, forKey: .walltime)
            try container.encode(self.coreSummary, forKey: .coreSummary)
        }
    }
}
