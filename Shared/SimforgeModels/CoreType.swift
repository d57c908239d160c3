/// A hardware type jobs run on (API.md "Objects").
public struct CoreType: Codable, Sendable, Equatable {
    public var code: String
    public var name: String
    public var description: String
    public var displayOrder: Int
    public var isActive: Bool
    public var isDeprecated: Bool
    /// Valid node sizes in cores.
    public var cores: [Int]
    /// Memory per core, in MB.
    public var memory: Int
    /// Storage per core, in GB.
    public var storage: Int
    /// Price per core-hour, as a decimal string.
    public var price: String
    public var processorInfo: String
    public var walltimeRequired: Bool

    public init(
        code: String,
        name: String,
        description: String,
        displayOrder: Int,
        isActive: Bool,
        isDeprecated: Bool,
        cores: [Int],
        memory: Int,
        storage: Int,
        price: String,
        processorInfo: String,
        walltimeRequired: Bool
    ) {
        self.code = code
        self.name = name
        self.description = description
        self.displayOrder = displayOrder
        self.isActive = isActive
        self.isDeprecated = isDeprecated
        self.cores = cores
        self.memory = memory
        self.storage = storage
        self.price = price
        self.processorInfo = processorInfo
        self.walltimeRequired = walltimeRequired
    }
}
