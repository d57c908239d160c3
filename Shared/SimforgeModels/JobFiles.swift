import Foundation

extension Job {
    /// A file a job refers to (a script, a template, a parameter file). Clients send
    /// `{"id": ...}` (or a bare id, or the whole File of a job they read back); answers
    /// carry the whole File.
    public struct FileReference: Codable, Sendable, Equatable {
        public var id: String
        public var file: File?

        public init(id: String, file: File? = nil) {
            self.id = id
            self.file = file
        }

        private enum CodingKeys: String, CodingKey { case id }

        public init(from decoder: any Decoder) throws {
            if let id = try? decoder.singleValueContainer().decode(String.self) {
                self.id = id
                self.file = nil
                return
            }
            self.id = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .id)
            // A File read back from an answer; clients send only the id.
            self.file = try? File(from: decoder)
        }

        /// The whole File when it is known, else `{"id": ...}`.
        public func encode(to encoder: any Encoder) throws {
            if let file {
                try file.encode(to: encoder)
            } else {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(self.id, forKey: .id)
            }
        }
    }

    /// An input file of a job analysis: unpacked into the working directory (`.zip`,
    /// `.tar`, `.tar.gz`) unless `decompress` is false.
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
            let reference = try FileReference(from: decoder)
            self.id = reference.id
            self.file = reference.file
            self.decompress = (try? decoder.container(keyedBy: CodingKeys.self).value(Bool.self, .decompress, or: true)) ?? true
        }

        /// The File's fields, flattened, plus `decompress` (the seed's response shape).
        public func encode(to encoder: any Encoder) throws {
            try FileReference(id: self.id, file: self.file).encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.decompress, forKey: .decompress)
        }
    }

    /// A template written into each run's working directory under `processedFilename`,
    /// its `${name}` placeholders replaced by the run's variables.
    public struct TemplateTask: Codable, Sendable, Equatable {
        public var templateFile: FileReference
        public var processedFilename: String

        public init(templateFile: FileReference, processedFilename: String) {
            self.templateFile = templateFile
            self.processedFilename = processedFilename
        }
    }

    /// A variable of a design of experiments: its values come from a generator
    /// (`valueGeneratorType` with its `valueGeneratorSettings`) or from the job's paramFile.
    public struct JobVariable: Codable, Sendable, Equatable {
        public var name: String
        public var variableType: String
        public var valueGeneratorType: String
        public var valueGeneratorSettings: JSONValue
        public var displayOrder: Int?

        public init(name: String, variableType: String = "Param", valueGeneratorType: String, valueGeneratorSettings: JSONValue,
                    displayOrder: Int? = nil) {
            self.name = name
            self.variableType = variableType
            self.valueGeneratorType = valueGeneratorType
            self.valueGeneratorSettings = valueGeneratorSettings
            self.displayOrder = displayOrder
        }

        private enum CodingKeys: String, CodingKey {
            case name, variableType, valueGeneratorType, valueGeneratorSettings, displayOrder
            /// The docs' table calls it so; their samples and every client say `valueGeneratorType`.
            case variableGeneratorType
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try container.decode(String.self, forKey: .name)
            self.variableType = try container.value(String.self, .variableType, or: "Param")
            self.valueGeneratorType = try container.decodeIfPresent(String.self, forKey: .valueGeneratorType)
                ?? container.value(String.self, .variableGeneratorType, or: "")
            self.valueGeneratorSettings = try container.value(JSONValue.self, .valueGeneratorSettings, or: .object([]))
            self.displayOrder = try container.lenientInt(.displayOrder)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.name, forKey: .name)
            try container.encode(self.variableType, forKey: .variableType)
            try container.encode(self.valueGeneratorType, forKey: .valueGeneratorType)
            try container.encode(self.valueGeneratorSettings, forKey: .valueGeneratorSettings)
            try container.encode(self.displayOrder, forKey: .displayOrder)
        }
    }
}
