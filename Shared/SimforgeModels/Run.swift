import Foundation

/// One execution of a job's analyses (API.md "Run"): a basic job has run "1", a DOE one
/// run per combination of its variables. Every key of the Rescale docs' run is written,
/// plus our `exitCode`, `status` and `statusReason`.
public struct Run: Codable, Sendable, Equatable {
    public var id: String
    /// 3: a case (Rescale's 1 optimization and 2 iteration runs do not exist here).
    public var type: Int
    public var displayOrder: Int
    public var dateStarted: Date?
    public var dateCompleted: Date?
    public var isOptimal: Bool
    public var outputFileCount: Int
    public var outputFileSize: Int64
    public var parent: String?
    public var variables: [RunVariable]
    /// The exit code of the last step that ran.
    public var exitCode: Int?
    /// The run's own state (`Pending` ... `Completed`) and why it ended.
    public var status: String
    public var statusReason: String?

    public init(id: String, displayOrder: Int, dateStarted: Date?, dateCompleted: Date?, outputFileCount: Int, outputFileSize: Int64,
                variables: [RunVariable], exitCode: Int?, status: String, statusReason: String?) {
        self.id = id
        self.type = 3
        self.displayOrder = displayOrder
        self.dateStarted = dateStarted
        self.dateCompleted = dateCompleted
        self.isOptimal = false
        self.outputFileCount = outputFileCount
        self.outputFileSize = outputFileSize
        self.parent = nil
        self.variables = variables
        self.exitCode = exitCode
        self.status = status
        self.statusReason = statusReason
    }

    private enum CodingKeys: String, CodingKey {
        case id, type, displayOrder, dateStarted, dateCompleted, isOptimal, outputFileCount, outputFileSize, parent, variables, exitCode,
             status, statusReason
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.type, forKey: .type)
        try container.encode(self.displayOrder, forKey: .displayOrder)
        try container.encode(self.dateStarted, forKey: .dateStarted)
        try container.encode(self.dateCompleted, forKey: .dateCompleted)
        try container.encode(self.isOptimal, forKey: .isOptimal)
        try container.encode(self.outputFileCount, forKey: .outputFileCount)
        try container.encode(self.outputFileSize, forKey: .outputFileSize)
        try container.encode(self.parent, forKey: .parent)
        try container.encode(self.variables, forKey: .variables)
        try container.encode(self.exitCode, forKey: .exitCode)
        try container.encode(self.status, forKey: .status)
        try container.encode(self.statusReason, forKey: .statusReason)
    }
}

/// A DOE run's value of one variable (Rescale's run `variables`): `value` the number (null
/// for a text value from a parameter file), `displayValue` what templates and the
/// environment get.
public struct RunVariable: Codable, Sendable, Equatable {
    public var name: String
    public var value: Double?
    public var displayValue: String
    public var isRelative: Bool

    public init(name: String, value: Double?, displayValue: String, isRelative: Bool = false) {
        self.name = name
        self.value = value
        self.displayValue = displayValue
        self.isRelative = isRelative
    }

    private enum CodingKeys: String, CodingKey { case name, value, displayValue, isRelative }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.value, forKey: .value)
        try container.encode(self.displayValue, forKey: .displayValue)
        try container.encode(self.isRelative, forKey: .isRelative)
    }
}
